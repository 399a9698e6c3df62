import { HttpSignatureError, type HttpSignatureErrorCode } from '../http-signature.error';
import type { HttpMessageView } from '../http-message';
import { buildSignatureBaseString } from './signature-base';
import { hasRfc9421Signature, parseRfc9421, selectSignature } from './signature-input.parser';

const SIG = ':dGVzdA==:';

function view(...headers: string[]): HttpMessageView {
  return {
    method: 'POST',
    scheme: 'https',
    authority: 'example.com',
    target: '/foo?a=1',
    rawHeaders: ['Host', 'example.com', 'Date', 'Tue, 20 Apr 2021 02:07:55 GMT', ...headers],
  };
}

function signed(input: string, signature = `sig1=${SIG}`): HttpMessageView {
  return view('Signature-Input', input, 'Signature', signature);
}

function errorOf(fn: () => unknown): HttpSignatureError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HttpSignatureError) return error;
    throw error;
  }
  throw new Error('expected an HttpSignatureError');
}

function expectCode(code: HttpSignatureErrorCode, fn: () => unknown): void {
  expect(errorOf(fn).code).toBe(code);
}

describe('parseRfc9421', () => {
  it('parses labels, components, parameters and the signature', () => {
    const [entry] = parseRfc9421(
      signed(
        'sig1=("@method" "@authority" "date");created=1618884473;keyid="k";alg="ed25519";nonce="n";tag="t"',
      ),
    );
    expect(entry.label).toBe('sig1');
    expect(entry.components.map((c) => c.identifier)).toEqual(['"@method"', '"@authority"', '"date"']);
    expect(entry.params).toEqual({ created: 1618884473, keyid: 'k', alg: 'ed25519', nonce: 'n', tag: 't' });
    expect(entry.signature.toString()).toBe('test');
  });

  it('returns [] without signature fields and reports their presence', () => {
    expect(parseRfc9421(view())).toEqual([]);
    expect(hasRfc9421Signature(view())).toBe(false);
    expect(hasRfc9421Signature(signed('sig1=()'))).toBe(true);
  });

  it('keeps @signature-params exactly as received, spacing and unknown parameters included', () => {
    const raw = '( "@method"  "date" );created=1;x-vendor=?0;keyid="a\\"b"';
    const [entry] = parseRfc9421(signed(`sig1=${raw}`));
    expect(entry.signatureParamsValue).toBe(raw);
    expect(entry.params).toEqual({ created: 1, keyid: 'a"b' });
    expect(buildSignatureBaseString(view(), entry)).toBe(
      `"@method": POST\n"date": Tue, 20 Apr 2021 02:07:55 GMT\n"@signature-params": ${raw}`,
    );
  });

  it('does not mistake ":" or "%" inside a token for a byte sequence or display string', () => {
    const parsed = parseRfc9421(
      signed('a=();x=urn:a:b, b=("date");y=p50%, c=();w=:AAAA:', `a=${SIG}, b=${SIG}, c=${SIG}`),
    );
    expect(parsed.map((s) => s.signatureParamsValue)).toEqual([
      '();x=urn:a:b',
      '("date");y=p50%',
      '();w=:AAAA:',
    ]);
    // RFC 9421 fields are RFC 8941 structured fields: RFC 9651 Display Strings and Dates are refused.
    expectCode('MALFORMED_SIGNATURE', () => parseRfc9421(signed('b=("date");z=%"x"', `b=${SIG}`)));
    expectCode('MALFORMED_SIGNATURE', () => parseRfc9421(signed('b=("date");z=@1', `b=${SIG}`)));
    expectCode('MALFORMED_SIGNATURE', () => parseRfc9421(signed('sig1=();x=a:b, sig1=();y=c:d')));
    expectCode('MALFORMED_SIGNATURE', () => parseRfc9421(signed('sig1=("date");x=a:b;x=c:d')));
  });

  it('accepts signatures spread over several field lines, in order', () => {
    const parsed = parseRfc9421(
      view(
        'Signature-Input',
        'a=()',
        'Signature',
        `b=${SIG}`,
        'Signature-Input',
        'b=("date")',
        'Signature',
        `a=${SIG}`,
      ),
    );
    expect(parsed.map((s) => s.label)).toEqual(['a', 'b']);
  });

  it('an empty component list is a valid base at this layer', () => {
    const [entry] = parseRfc9421(signed('sig1=();created=1618884473'));
    expect(entry.components).toEqual([]);
    expect(buildSignatureBaseString(view(), entry)).toBe('"@signature-params": ();created=1618884473');
  });

  describe('refuses', () => {
    it.each([
      [
        'the same label on two Signature-Input lines',
        view('Signature-Input', 'sig1=()', 'Signature-Input', 'sig1=("date")', 'Signature', `sig1=${SIG}`),
      ],
      ['the same label twice on one line', signed('sig1=(), sig1=("date")')],
      ['the same label twice in Signature', signed('sig1=()', `sig1=${SIG}, sig1=:AAAA:`)],
      ['a label only in Signature-Input', signed('sig1=(), sig2=()')],
      ['a label only in Signature', signed('sig1=()', `sig1=${SIG}, sig2=${SIG}`)],
      ['Signature without Signature-Input', view('Signature', `sig1=${SIG}`)],
      ['Signature-Input without Signature', view('Signature-Input', 'sig1=()')],
      ['a malformed structured field', signed('sig1=("@method"')],
      ['an uppercase label', signed('Sig1=()', `Sig1=${SIG}`)],
      ['a trailing comma', signed('sig1=(),')],
      ['an empty Signature-Input', signed('')],
      ['a 20 KB Signature-Input', signed(`sig1=("date");nonce="${'a'.repeat(20 * 1024)}"`)],
      [
        'a 20 KB Signature spread over lines',
        view(
          'Signature-Input',
          'sig1=()',
          ...Array(3)
            .fill(['Signature', `sig1=:${'A'.repeat(8000)}:`])
            .flat(),
        ),
      ],
      [
        'more than 8 signatures',
        signed(
          Array.from({ length: 9 }, (_, i) => `s${i}=()`).join(', '),
          Array.from({ length: 9 }, (_, i) => `s${i}=${SIG}`).join(', '),
        ),
      ],
      [
        'more than 32 components',
        signed(`sig1=(${Array.from({ length: 33 }, (_, i) => `"h${i}"`).join(' ')})`),
      ],
      ['a Signature-Input member that is not an inner list', signed('sig1="@method"')],
      ['a Signature member that is not a byte sequence', signed('sig1=()', 'sig1="dGVzdA=="')],
      ['non-base64 in the signature', signed('sig1=()', 'sig1=:dGV$zdA==:')],
      ['unpadded base64', signed('sig1=()', 'sig1=:dGVzdA:')],
      ['base64 with non-zero trailing bits', signed('sig1=()', 'sig1=:dGVzdB==:')],
      ['an empty signature', signed('sig1=()', 'sig1=::')],
      ['a token component identifier', signed('sig1=(date)')],
      ['an integer component identifier', signed('sig1=(1)')],
      ['an inner list as component', signed('sig1=(("date"))')],
      ['a repeated component', signed('sig1=("date" "@method" "date")')],
      [
        'a repeated component with reordered parameters',
        signed('sig1=("content-type";req;sf "content-type";sf;req)'),
      ],
      ['a repeated signature parameter', signed('sig1=("date");created=1;created=2')],
      ['a repeated component parameter', signed('sig1=("x";key="a";key="b")')],
      ['a created that is not an integer', signed('sig1=();created="1"')],
      ['a decimal expires', signed('sig1=();expires=1.5')],
      ['a keyid that is not a string', signed('sig1=();keyid=k')],
      ['an uppercase field name', signed('sig1=("Date")')],
      ['"@signature-params" as a component', signed('sig1=("@signature-params")')],
      ['a ;key parameter that is not a string', signed('sig1=("x";key=a)')],
      [';sf=?0', signed('sig1=("x";sf=?0)')],
      [';bs with ;sf', signed('sig1=("x";bs;sf)')],
      ['@query-param without ;name', signed('sig1=("@query-param")')],
    ])('%s (MALFORMED_SIGNATURE)', (_what, message) => {
      expectCode('MALFORMED_SIGNATURE', () => parseRfc9421(message));
    });

    it.each([
      [';tr', 'sig1=("expires";tr)'],
      ['an unknown derived component', 'sig1=("@foo")'],
      ['an unknown component parameter', 'sig1=("date";foo)'],
      [';sf on a derived component', 'sig1=("@method";sf)'],
      [';key on a derived component', 'sig1=("@method";key="a")'],
      [';name on a field', 'sig1=("date";name="a")'],
    ])('%s (SIGNATURE_COMPONENT_UNSUPPORTED)', (_what, input) => {
      expectCode('SIGNATURE_COMPONENT_UNSUPPORTED', () => parseRfc9421(signed(input)));
    });

    it('mentions the duplicated label, quoted, but never raw input', () => {
      const error = errorOf(() => parseRfc9421(signed('sig1=(), sig1=()')));
      expect(error.message).toContain('"sig1"');
      expect(error.name).toBe('HttpSignatureError');
    });
  });

  it('honours tighter limits', () => {
    expectCode('MALFORMED_SIGNATURE', () =>
      parseRfc9421(signed('sig1=("date" "host")'), { maxComponents: 1 }),
    );
    expectCode('MALFORMED_SIGNATURE', () => parseRfc9421(signed('sig1=()'), { maxHeaderLength: 5 }));
  });
});

describe('selectSignature', () => {
  const parsed = parseRfc9421(
    signed('a=();tag="app", b=();tag="proxy", c=();tag="app"', `a=${SIG}, b=${SIG}, c=${SIG}`),
  );

  it('selects by label, by tag, or by both', () => {
    expect(selectSignature(parsed, { label: 'b' }).label).toBe('b');
    expect(selectSignature(parsed, { tag: 'proxy' }).label).toBe('b');
    expect(selectSignature(parsed, { label: 'c', tag: 'app' }).label).toBe('c');
  });

  it('refuses no match and an ambiguous match', () => {
    expectCode('SIGNATURE_NOT_FOUND', () => selectSignature(parsed, { label: 'z' }));
    expectCode('SIGNATURE_NOT_FOUND', () => selectSignature(parsed, { label: 'a', tag: 'proxy' }));
    expectCode('SIGNATURE_NOT_FOUND', () => selectSignature(parsed, { tag: 'app' }));
    expectCode('SIGNATURE_NOT_FOUND', () => selectSignature(parsed));
    expectCode('SIGNATURE_NOT_FOUND', () => selectSignature([]));
  });

  it('the only signature needs no selector', () => {
    expect(selectSignature(parseRfc9421(signed('sig1=()'))).label).toBe('sig1');
  });
});
