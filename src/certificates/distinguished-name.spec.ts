import fc from 'fast-check';
import { CertificateError } from './certificate-error';
import {
  DistinguishedName,
  distinguishedNamesEqual,
  DnAttribute,
  formatDistinguishedName,
  parseDistinguishedName,
  requireSingleCn,
} from './distinguished-name';

const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 1000);

/** Compact view for assertions: RDNs in ASN.1 order, "TYPE=value" or "TYPE=#hex". */
function simple(dn: DistinguishedName): string[][] {
  return dn.map((rdn) =>
    rdn.map((a) => `${a.type}=${a.kind === 'string' ? a.value : `#${Buffer.from(a.ber).toString('hex')}`}`),
  );
}

function refuses(input: string): void {
  expect(() => parseDistinguishedName(input)).toThrow(
    expect.objectContaining({ code: 'CERT_SUBJECT_INVALID' }),
  );
}

describe('parseDistinguishedName (RFC 4514)', () => {
  describe('the examples of RFC 4514 §4', () => {
    it('UID=jsmith,DC=example,DC=net', () => {
      expect(simple(parseDistinguishedName('UID=jsmith,DC=example,DC=net'))).toEqual([
        ['DC=net'],
        ['DC=example'],
        ['UID=jsmith'],
      ]);
    });

    it('a multi-valued RDN: OU=Sales+CN=J.  Smith,DC=example,DC=net', () => {
      const dn = parseDistinguishedName('OU=Sales+CN=J.  Smith,DC=example,DC=net');
      expect(simple(dn)).toEqual([['DC=net'], ['DC=example'], ['OU=Sales', 'CN=J.  Smith']]);
      expect(requireSingleCn(dn)).toBe('J.  Smith');
    });

    it('escaped quotes and comma: CN=James \\"Jim\\" Smith\\, III,DC=example,DC=net', () => {
      const dn = parseDistinguishedName('CN=James \\"Jim\\" Smith\\, III,DC=example,DC=net');
      expect(requireSingleCn(dn)).toBe('James "Jim" Smith, III');
    });

    it('a hex-escaped carriage return: CN=Before\\0dAfter,DC=example,DC=net', () => {
      const dn = parseDistinguishedName('CN=Before\\0dAfter,DC=example,DC=net');
      expect(simple(dn)[2]).toEqual(['CN=Before\rAfter']);
      // Valid syntax, but a CN with a control character is not an identity.
      expect(() => requireSingleCn(dn)).toThrow(expect.objectContaining({ code: 'CERT_SUBJECT_INVALID' }));
    });

    it('a #BER value under a dotted OID: 1.3.6.1.4.1.1466.0=#04024869,DC=example,DC=com', () => {
      const dn = parseDistinguishedName('1.3.6.1.4.1.1466.0=#04024869,DC=example,DC=com');
      const [attribute] = dn[2];
      expect(attribute).toMatchObject({ type: '1.3.6.1.4.1.1466.0', oid: '1.3.6.1.4.1.1466.0', kind: 'ber' });
      expect(Buffer.from((attribute as Extract<DnAttribute, { kind: 'ber' }>).ber).toString('hex')).toBe(
        '04024869',
      );
    });

    it('UTF-8 from hex pairs: CN=Lu\\C4\\8Di\\C4\\87', () => {
      expect(requireSingleCn(parseDistinguishedName('CN=Lu\\C4\\8Di\\C4\\87'))).toBe('Lučić');
    });
  });

  it('accepts every escape of RFC 4514 §2.4 and raw UTF-8', () => {
    const dn = parseDistinguishedName('CN=\\ \\#a\\,\\+\\"\\\\\\<\\>\\;\\=b\\ ,O=Lučić=ok#');
    expect(simple(dn)).toEqual([['O=Lučić=ok#'], ['CN= #a,+"\\<>;=b ']]);
  });

  it('maps descriptors case-insensitively and known OIDs to their names', () => {
    expect(
      simple(parseDistinguishedName('cn=a,commonName=b,2.5.4.3=c,o=d,emailAddress=e,x-custom=f')),
    ).toEqual([['x-custom=f'], ['emailAddress=e'], ['O=d'], ['CN=c'], ['CN=b'], ['CN=a']]);
    expect(parseDistinguishedName('2.5.4.3=c')[0][0].oid).toBe('2.5.4.3');
    expect(parseDistinguishedName('x-custom=f')[0][0].oid).toBeUndefined();
  });

  it('accepts the empty DN and empty values', () => {
    expect(parseDistinguishedName('')).toEqual([]);
    expect(simple(parseDistinguishedName('CN=,O=x'))).toEqual([['O=x'], ['CN=']]);
  });

  it('accepts RFC 2253 output as OpenSSL writes it (hex-escaped UTF-8, escaped specials)', () => {
    const dn = parseDistinguishedName('CN=mallory/CN\\=admin,O=Evil\\, CN\\=admin,CN=\\C3\\A9t\\C3\\A9');
    expect(simple(dn)).toEqual([['CN=été'], ['O=Evil, CN=admin'], ['CN=mallory/CN=admin']]);
  });

  it.each([
    ['/C=US/CN=x', 'OpenSSL slash form'],
    ['CN=a\\', 'unterminated escape'],
    ['=a', 'empty type'],
    ['CN=a,', 'trailing comma'],
    ['CN=a+', 'trailing plus'],
    [',CN=a', 'leading comma'],
    ['CN=a, O=b', 'space after the separator (RFC 1779)'],
    ['CN =a', 'space before "="'],
    ['CN= a', 'unescaped leading space'],
    ['CN=a ', 'unescaped trailing space'],
    ['CN=a;O=b', '";" separator (RFC 1779)'],
    ['CN="quoted"', 'quoted value (RFC 1779)'],
    ['OID.2.5.4.3=a', '"OID." prefix'],
    ['CN=a\\x', 'invalid escape'],
    ['CN=a\\4', 'half a hex pair'],
    ['CN=\\C4', 'hex escapes that are not UTF-8'],
    ['CN=\\C4a', 'hex escape followed by ASCII inside a UTF-8 sequence'],
    ['CN=a<b', 'unescaped "<"'],
    ['CN=a\u0000b', 'raw NUL'],
    ['CN=#zz', '#value without hex'],
    ['CN=#0402486', 'odd number of hex digits'],
    ['CN=#04024869ff', '#value with bytes after the TLV'],
    ['CN=#0405', '#value with a truncated TLV'],
    ['CN=#0402', '#value with a truncated TLV (length)'],
    ['2.5.4.03=a', 'OID arc with a leading zero'],
    ['1=a', 'OID with one arc'],
    ['1.2.=a', 'OID with an empty arc'],
    ['C N=a', 'space in a type'],
    ['9CN=a', 'descriptor starting with a digit'],
    ['CN=a\ud800', 'unpaired surrogate'],
  ])('refuses %j (%s)', (input) => refuses(input));

  it('refuses input that is not a string or is too long', () => {
    expect(() => parseDistinguishedName(42 as unknown as string)).toThrow(CertificateError);
    refuses(`CN=${'a'.repeat(9000)}`);
  });
});

describe('requireSingleCn', () => {
  it('refuses no CN, two CNs (in separate or in one RDN) and a #BER CN', () => {
    for (const input of ['O=x', 'CN=admin,CN=alice', 'CN=admin+CN=alice', '2.5.4.3=#0c0561646d696e']) {
      expect(() => requireSingleCn(parseDistinguishedName(input))).toThrow(
        expect.objectContaining({ code: 'CERT_SUBJECT_INVALID' }),
      );
    }
  });

  it('refuses an empty CN and bidi overrides', () => {
    expect(() => requireSingleCn(parseDistinguishedName('CN='))).toThrow(CertificateError);
    expect(() => requireSingleCn(parseDistinguishedName('CN=admin\u202egnp.exe'))).toThrow(CertificateError);
  });

  it('returns the literal value, separators included', () => {
    expect(requireSingleCn(parseDistinguishedName('CN=mallory/CN\\=admin'))).toBe('mallory/CN=admin');
    expect(requireSingleCn(parseDistinguishedName('CN=mallory,O=Evil\\, CN\\=admin'))).toBe('mallory');
  });
});

describe('formatDistinguishedName', () => {
  it('escapes what RFC 4514 requires and hex-escapes controls and bidi characters', () => {
    const dn = parseDistinguishedName('CN=\\ \\#x\\,y\\+\\"z\\\\\\<\\>\\;\\0a\\E2\\80\\AE\\ ');
    expect(formatDistinguishedName(dn)).toBe('CN=\\ #x\\,y\\+\\"z\\\\\\<\\>\\;\\0A\\E2\\80\\AE\\ ');
  });

  const attributeArb: fc.Arbitrary<DnAttribute> = fc.oneof(
    fc
      .record({
        type: fc.constantFrom('CN', 'O', 'OU', 'DC', 'UID', '1.2.3.4'),
        value: fc.string({ unit: 'binary', maxLength: 20 }),
      })
      .map(({ type, value }): DnAttribute => {
        const oids: Record<string, string> = {
          CN: '2.5.4.3',
          O: '2.5.4.10',
          OU: '2.5.4.11',
          DC: '0.9.2342.19200300.100.1.25',
          UID: '0.9.2342.19200300.100.1.1',
          '1.2.3.4': '1.2.3.4',
        };
        return { type, oid: oids[type], kind: 'string', value };
      }),
    fc.uint8Array({ maxLength: 20 }).map((bytes) => ({
      type: '1.2.3.4',
      oid: '1.2.3.4',
      kind: 'ber' as const,
      ber: Uint8Array.from([0x04, bytes.length, ...bytes]),
    })),
  );

  it('round-trips through parseDistinguishedName (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(attributeArb, { minLength: 1, maxLength: 3 }), { maxLength: 5 }),
        (dn) => {
          const text = formatDistinguishedName(dn);
          expect(distinguishedNamesEqual(parseDistinguishedName(text), dn)).toBe(true);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });
});
