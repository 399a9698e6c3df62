import { HttpSignatureError, type HttpSignatureErrorCode } from '../http-signature.error';
import type { HttpMessageView } from '../http-message';
import { toCoveredComponent } from './component-identifier';
import type { ComponentIdentifier } from './rfc9421.types';
import { buildSignatureBase, buildSignatureBaseString } from './signature-base';
import { signRfc9421 } from './signer';

const request: HttpMessageView = {
  method: 'POST',
  scheme: 'https',
  authority: 'Example.COM:443',
  target: '/a/b?x=1&y=two%20words&x2=&dup=1&dup=2&plus=a+b',
  rawHeaders: [
    'Host',
    'example.com',
    'Content-Type',
    'application/json',
    'X-List',
    'a, b',
    'x-list',
    'c',
    'X-Dict',
    'a=1, b=(x y);p',
    'X-Bare-LF',
    'one\ntwo',
    'X-Latin1',
    'caf\u00e9',
    'X-Wide',
    '\u20ac',
  ],
};

const response: HttpMessageView = { status: 201, rawHeaders: ['Content-Type', 'text/plain'] };

function line(view: HttpMessageView, component: ComponentIdentifier, related?: HttpMessageView): string {
  const covered = toCoveredComponent(component);
  return buildSignatureBaseString(view, { components: [covered], signatureParamsValue: '()' }, related).split(
    '\n',
  )[0];
}

function expectCode(code: HttpSignatureErrorCode, fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpSignatureError);
    expect((error as HttpSignatureError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('signature base components', () => {
  it.each([
    [{ name: '@method' }, '"@method": POST'],
    [{ name: '@scheme' }, '"@scheme": https'],
    [{ name: '@authority' }, '"@authority": example.com'],
    [
      { name: '@target-uri' },
      '"@target-uri": https://example.com/a/b?x=1&y=two%20words&x2=&dup=1&dup=2&plus=a+b',
    ],
    [{ name: '@request-target' }, '"@request-target": /a/b?x=1&y=two%20words&x2=&dup=1&dup=2&plus=a+b'],
    [{ name: '@path' }, '"@path": /a/b'],
    [{ name: '@query' }, '"@query": ?x=1&y=two%20words&x2=&dup=1&dup=2&plus=a+b'],
    [{ name: '@query-param', params: { name: 'y' } }, '"@query-param";name="y": two%20words'],
    [{ name: '@query-param', params: { name: 'x2' } }, '"@query-param";name="x2": '],
    [{ name: '@query-param', params: { name: 'plus' } }, '"@query-param";name="plus": a%20b'],
    [{ name: 'x-list' }, '"x-list": a, b, c'],
    [{ name: 'x-list', params: { bs: true } }, '"x-list";bs: :YSwgYg==:, :Yw==:'],
    [{ name: 'x-dict', params: { key: 'b' } }, '"x-dict";key="b": (x y);p'],
    [{ name: 'x-dict', params: { sf: true } }, '"x-dict";sf: a=1, b=(x y);p'],
    [{ name: 'x-list', params: { key: 'c' } }, '"x-list";key="c": ?1'],
    [{ name: 'x-list', params: { sf: true } }, '"x-list";sf: a, b, c'],
    [{ name: 'x-latin1', params: { bs: true } }, '"x-latin1";bs: :Y2Fm6Q==:'],
  ] as const)('%j', (component, expected) => {
    expect(line(request, component)).toBe(expected);
  });

  it('keeps the default port of another scheme and lowercases the host', () => {
    expect(line({ ...request, scheme: 'http', authority: 'Example.com:443' }, { name: '@authority' })).toBe(
      '"@authority": example.com:443',
    );
    expect(line({ ...request, scheme: 'HTTP', authority: 'example.com:80' }, { name: '@target-uri' })).toBe(
      '"@target-uri": http://example.com/a/b?x=1&y=two%20words&x2=&dup=1&dup=2&plus=a+b',
    );
  });

  it("@target-uri of an absolute-form target: the view's scheme and authority, the target's path and query", () => {
    const absolute = { ...request, target: 'http://other.example:8080/x/y?q=1#frag' };
    expect(line(absolute, { name: '@target-uri' })).toBe('"@target-uri": https://example.com/x/y?q=1');
    expect(line({ ...absolute, target: 'http://other.example' }, { name: '@target-uri' })).toBe(
      '"@target-uri": https://example.com/',
    );
    // Without a scheme and authority of its own (a client's view), the target is the URI.
    expect(line({ ...absolute, authority: undefined }, { name: '@target-uri' })).toBe(
      '"@target-uri": http://other.example:8080/x/y?q=1#frag',
    );
  });

  it('@path is "/" and @query is "?" for an empty path and no query', () => {
    const bare = { ...request, target: '/' };
    expect(line(bare, { name: '@path' })).toBe('"@path": /');
    expect(line(bare, { name: '@query' })).toBe('"@query": ?');
    expect(line({ ...request, target: '/p?' }, { name: '@query' })).toBe('"@query": ?');
    expect(line({ ...request, target: 'https://h.example/x?q' }, { name: '@path' })).toBe('"@path": /x');
    expect(line({ ...request, target: 'https://h.example?q' }, { name: '@path' })).toBe('"@path": /');
  });

  it('takes ;req components from the related request', () => {
    expect(line(response, { name: '@status' })).toBe('"@status": 201');
    expect(line(response, { name: '@method', params: { req: true } }, request)).toBe('"@method";req: POST');
    expect(line(response, { name: 'content-type', params: { req: true } }, request)).toBe(
      '"content-type";req: application/json',
    );
    expect(line(response, { name: 'content-type' }, request)).toBe('"content-type": text/plain');
  });

  describe('refuses', () => {
    it.each([
      ['SIGNATURE_COMPONENT_MISSING', request, { name: 'x-absent' }],
      ['SIGNATURE_COMPONENT_MISSING', request, { name: 'x-absent', params: { bs: true } }],
      ['SIGNATURE_COMPONENT_MISSING', request, { name: '@query-param', params: { name: 'zzz' } }],
      [
        'SIGNATURE_COMPONENT_MISSING',
        { ...request, target: '/p' },
        { name: '@query-param', params: { name: 'x' } },
      ],
      ['SIGNATURE_COMPONENT_MISSING', request, { name: 'x-dict', params: { key: 'zzz' } }],
      ['SIGNATURE_COMPONENT_MISSING', { rawHeaders: [] }, { name: '@method' }],
      ['SIGNATURE_COMPONENT_MISSING', { rawHeaders: [] }, { name: '@target-uri' }],
      ['SIGNATURE_COMPONENT_MISSING', { ...request, scheme: undefined }, { name: '@target-uri' }],
      ['SIGNATURE_COMPONENT_MISSING', { ...request, authority: '' }, { name: '@authority' }],
      ['SIGNATURE_COMPONENT_MISSING', response, { name: '@method', params: { req: true } }],
      ['SIGNATURE_COMPONENT_MISSING', { status: 42, rawHeaders: [] }, { name: '@status' }],
      ['SIGNATURE_COMPONENT_INVALID', request, { name: '@query-param', params: { name: 'dup' } }],
      ['SIGNATURE_COMPONENT_INVALID', request, { name: 'x-bare-lf' }],
      ['SIGNATURE_COMPONENT_INVALID', request, { name: 'x-latin1' }],
      ['SIGNATURE_COMPONENT_INVALID', request, { name: 'x-wide', params: { bs: true } }],
      ['SIGNATURE_COMPONENT_INVALID', request, { name: 'content-type', params: { key: 'a' } }],
      [
        'SIGNATURE_COMPONENT_INVALID',
        { ...request, rawHeaders: ['X', '"unterminated'] },
        { name: 'x', params: { sf: true } },
      ],
      [
        'SIGNATURE_COMPONENT_INVALID',
        { ...request, target: '/p?\u00e9=1' },
        { name: '@query-param', params: { name: 'a' } },
      ],
      ['SIGNATURE_COMPONENT_UNSUPPORTED', request, { name: '@status' }],
      ['SIGNATURE_COMPONENT_UNSUPPORTED', request, { name: '@method', params: { req: true } }],
      ['SIGNATURE_COMPONENT_UNSUPPORTED', response, { name: '@method' }],
      ['SIGNATURE_COMPONENT_UNSUPPORTED', response, { name: '@path' }],
    ] as const)('%s for %#', (code, view, component) => {
      expectCode(code, () => line(view, component));
    });
  });

  it('returns the same bytes as a Buffer', () => {
    const entry = {
      components: [toCoveredComponent({ name: '@method' })],
      signatureParamsValue: '("@method")',
    };
    expect(buildSignatureBase(request, entry).toString('latin1')).toBe(
      buildSignatureBaseString(request, entry),
    );
  });

  it('refuses a value that would forge a further base line', () => {
    const forged = { ...request, rawHeaders: ['X-Inject', 'a\n"@method": GET'] };
    expectCode('SIGNATURE_COMPONENT_INVALID', () => line(forged, { name: 'x-inject' }));
    const folded = { ...request, rawHeaders: ['X-Fold', 'a\r\n "@method": GET'] };
    expect(line(folded, { name: 'x-fold' })).toBe('"x-fold": a "@method": GET');
  });

  it('keeps messages short when an identifier is long', () => {
    try {
      line(request, { name: `x-${'a'.repeat(5000)}` });
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(200);
      return;
    }
    throw new Error('expected a refusal');
  });

  it('refuses a @signature-params value with a line break', () => {
    expectCode('MALFORMED_SIGNATURE', () =>
      buildSignatureBaseString(request, { components: [], signatureParamsValue: '()\n"@method": GET' }),
    );
  });

  it('notices headers appended to the same rawHeaders array after a first use', () => {
    const rawHeaders = ['A', '1'];
    const view = { rawHeaders };
    expect(line(view, { name: 'a' })).toBe('"a": 1');
    rawHeaders.push('B', '2');
    expect(line(view, { name: 'b' })).toBe('"b": 2');
  });
});

describe('signRfc9421', () => {
  const sign = () => Buffer.from([1, 2, 3]);

  it('serializes components and parameters and signs the base', () => {
    let signedBase = '';
    const result = signRfc9421(request, {
      label: 'sig-1',
      components: [
        { name: '@method' },
        { name: '@query-param', params: { name: 'y' } },
        { name: 'x-dict', params: { key: 'a', sf: false } },
      ],
      params: { created: 1, keyid: 'k"\\', expires: undefined, tag: 't' },
      sign: (base) => {
        signedBase = base.toString();
        return sign();
      },
    });
    const input = '("@method" "@query-param";name="y" "x-dict";key="a");created=1;keyid="k\\"\\\\";tag="t"';
    expect(result.signatureInput).toBe(`sig-1=${input}`);
    expect(result.signature).toBe('sig-1=:AQID:');
    expect(signedBase).toBe(
      `"@method": POST\n"@query-param";name="y": two%20words\n"x-dict";key="a": 1\n"@signature-params": ${input}`,
    );
  });

  it.each([
    ['an invalid label', { label: 'Sig', components: [], params: {} }],
    ['a duplicated component', { label: 's', components: [{ name: 'a' }, { name: 'a' }], params: {} }],
    ['an uppercase field', { label: 's', components: [{ name: 'Date' }], params: {} }],
    ['a non-integer created', { label: 's', components: [], params: { created: 1.5 } }],
    ['a non-ASCII keyid', { label: 's', components: [], params: { keyid: 'k\u00e9' } }],
    ['an unknown parameter', { label: 's', components: [], params: { foo: 1 } as object }],
    ['a components object', { label: 's', components: {} as [], params: {} }],
  ])('refuses %s', (_what, options) => {
    expectCode('MALFORMED_SIGNATURE', () => signRfc9421(request, { ...options, sign }));
  });

  it('refuses ;tr and a missing component before signing', () => {
    const never = () => {
      throw new Error('must not sign');
    };
    expectCode('SIGNATURE_COMPONENT_UNSUPPORTED', () =>
      signRfc9421(request, {
        label: 's',
        components: [{ name: 'x', params: { tr: true } as object }],
        params: {},
        sign: never,
      }),
    );
    expectCode('SIGNATURE_COMPONENT_MISSING', () =>
      signRfc9421(request, { label: 's', components: [{ name: 'x-absent' }], params: {}, sign: never }),
    );
  });
});
