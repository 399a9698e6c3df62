import { validateOptions } from '../options/validate-options';
import type { AuthRequest } from '../http/auth-request';
import { credentialKind } from './auth-audit';

describe('audit options', () => {
  it("default to auditLog 'failures' and no hook; refuse anything else with the fix", () => {
    expect(validateOptions({})).toMatchObject({
      auditLog: 'failures',
      onAuthEvent: undefined,
      throttle: null,
    });
    expect(() => validateOptions({ auditLog: 'verbose' as never })).toThrow(
      /auditLog must be 'all', 'failures' or 'none'/,
    );
    expect(() => validateOptions({ onAuthEvent: 'siem' as never })).toThrow(/onAuthEvent must be a function/);
    expect(validateOptions({ throttle: {} }).throttle).toMatchObject({ maxFailures: 20, windowMs: 60_000 });
  });
});

describe('credentialKind: what a refused request carried', () => {
  const request = (rawHeaders: string[]) => ({ rawHeaders }) as unknown as AuthRequest;
  const at = Buffer.from(JSON.stringify({ typ: 'at+jwt' })).toString('base64url');
  it.each([
    [['Signature-Input', 'x', 'Signature', 'y'], null, 'http-signature-rfc9421'],
    [['Signature', 'keyId="k"'], null, 'http-signature-cavage'],
    [['Authorization', 'Signature keyId="k"'], null, 'http-signature-cavage'],
    [['Authorization', 'JWT a.b.c'], null, 'jwt'],
    [['Authorization', 'Bearer a.b.c'], null, 'jwt'],
    [['Authorization', `Bearer ${at}.b.c`], null, 'access-token'],
    [['Authorization', 'DPoP a.b.c'], null, 'access-token'],
    [['X-SSL-Client-Verify', 'NONE'], 'CERT_MISSING', 'client-certificate'],
    [[], 'CREDENTIALS_MISSING', null],
    [['Authorization', 'Basic x'], 'MALFORMED_CREDENTIALS', null],
  ] as const)('%j → %s', (headers, code, expected) => {
    expect(credentialKind(request([...headers]), code)).toBe(expected);
  });
});
