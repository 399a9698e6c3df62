import { CertificateError, CertificateErrorCode } from './certificate-error';
import { assertClientVerified, ClientVerifyStatus, parseClientVerifyStatus } from './verify-status.parser';

const status = (...values: string[]): ClientVerifyStatus =>
  parseClientVerifyStatus(values.flatMap((value) => ['X-SSL-Client-Verify', value]));

function assertionCode(value: ClientVerifyStatus): CertificateErrorCode | 'ok' {
  try {
    assertClientVerified(value);
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(CertificateError);
    return (error as CertificateError).code;
  }
}

describe('client verification status', () => {
  it.each([
    ['SUCCESS', { outcome: 'success' }, 'ok'],
    ['NONE', { outcome: 'none' }, 'CERT_MISSING'],
    [
      'FAILED:certificate has expired',
      { outcome: 'failed', reason: 'certificate has expired' },
      'CERT_VERIFY_FAILED',
    ],
    ['FAILED:', { outcome: 'failed', reason: '' }, 'CERT_VERIFY_FAILED'],
    ['GENEROUS', { outcome: 'generous' }, 'CERT_VERIFY_FAILED'],
    ['(null)', { outcome: 'unavailable' }, 'CERT_MISSING'],
    ['', { outcome: 'empty' }, 'CERT_MISSING'],
  ] as const)('maps %j', (value, expected, code) => {
    expect(status(value)).toEqual(expected);
    expect(assertionCode(status(value))).toBe(code);
  });

  describe('haproxy syntax (%[ssl_c_verify])', () => {
    const haproxy = (...values: string[]): ClientVerifyStatus =>
      parseClientVerifyStatus(
        values.flatMap((value) => ['X-SSL-Client-Verify', value]),
        'x-ssl-client-verify',
        'haproxy',
      );

    it.each([
      ['0', { outcome: 'success' }, 'ok'],
      ['20', { outcome: 'failed', reason: 'ssl_c_verify=20' }, 'CERT_VERIFY_FAILED'],
      ['1', { outcome: 'failed', reason: 'ssl_c_verify=1' }, 'CERT_VERIFY_FAILED'],
      ['999999999', { outcome: 'failed', reason: 'ssl_c_verify=999999999' }, 'CERT_VERIFY_FAILED'],
      ['', { outcome: 'empty' }, 'CERT_MISSING'],
    ] as const)('maps %j', (value, expected, code) => {
      expect(haproxy(value)).toEqual(expected);
      expect(assertionCode(haproxy(value))).toBe(code);
    });

    it.each([
      '00',
      '+0',
      '-0',
      '-1',
      '0x0',
      '0.0',
      '0e0',
      '0 0',
      '\u0660',
      '１',
      'SUCCESS',
      'NONE',
      '(null)',
      '1000000000',
      '18446744073709551616',
      '020',
    ])('refuses %j as malformed', (value) => {
      expect(() => haproxy(value)).toThrow(expect.objectContaining({ code: 'CERT_HEADER_MALFORMED' }));
    });

    it('refuses two verdicts and reads an absent header as absent', () => {
      expect(() => haproxy('0', '0')).toThrow(expect.objectContaining({ code: 'CERT_HEADER_DUPLICATED' }));
      expect(parseClientVerifyStatus(['Host', 'x'], 'x-ssl-client-verify', 'haproxy')).toEqual({
        outcome: 'absent',
      });
      // The text syntax does not read HAProxy's numbers.
      expect(() => status('0')).toThrow(expect.objectContaining({ code: 'CERT_HEADER_MALFORMED' }));
    });
  });

  it('distinguishes an absent header', () => {
    expect(parseClientVerifyStatus(['Host', 'x'])).toEqual({ outcome: 'absent' });
    expect(assertionCode({ outcome: 'absent' })).toBe('CERT_MISSING');
  });

  it('uses a configured header name', () => {
    expect(parseClientVerifyStatus(['ssl_client_verify', 'SUCCESS'], 'SSL_CLIENT_VERIFY')).toEqual({
      outcome: 'success',
    });
  });

  it('refuses duplicates, unknown values and wrong case', () => {
    expect(() => status('SUCCESS', 'SUCCESS')).toThrow(
      expect.objectContaining({ code: 'CERT_HEADER_DUPLICATED' }),
    );
    for (const value of [
      'success',
      'OK',
      'SUCCESS ,NONE',
      'FAILED',
      `FAILED:${'x'.repeat(300)}`,
      'SUCCESS\u0000',
    ]) {
      expect(() => status(value)).toThrow(expect.objectContaining({ code: 'CERT_HEADER_MALFORMED' }));
    }
  });

  it('never echoes a failure reason unescaped', () => {
    // Control characters cannot arrive through the header parser; a status built in code is still escaped.
    expect(() => status('FAILED:\u001b[31mred')).toThrow(
      expect.objectContaining({ code: 'CERT_HEADER_MALFORMED' }),
    );
    let message = '';
    try {
      assertClientVerified({ outcome: 'failed', reason: '\u001b[31mred\n"x"' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('\\u001b[31mred\\u000a\\"x\\"');
    expect(message).not.toContain('\u001b');
    expect(message).not.toContain('\n');
  });
});
