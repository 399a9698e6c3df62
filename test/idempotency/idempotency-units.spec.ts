import {
  canonicalJson,
  IdempotencyException,
  KeypairAuthConfigurationError,
  KeypairAuthModuleOptions,
  MemoryIdempotencyStore,
  readIdempotencyKey,
  requestFingerprint,
} from '../../src';
import { validateOptions } from '../../src/options/validate-options';
import { validateIdempotentRouteOptions } from '../../src/idempotency/idempotency-options';
import { Idempotent } from '../../src';

describe('idempotency options', () => {
  it('fills the defaults once', () => {
    expect(validateOptions({}).idempotency).toEqual({
      store: undefined,
      retentionMs: 86_400_000,
      lockTtlMs: 30_000,
      maxKeyLength: 255,
      maxResponseBytes: 1024 * 1024,
    });
    const store = new MemoryIdempotencyStore();
    expect(validateOptions({ idempotency: { store, lockTtlSeconds: 5 } }).idempotency).toMatchObject({
      store,
      lockTtlMs: 5000,
    });
    store.close();
  });

  it.each([
    [
      { idempotency: { lockTtl: 5 } },
      /unknown option idempotency\.lockTtl\. Known options: store, retentionSeconds/,
    ],
    [
      { idempotency: { lockTtlSeconds: 0 } },
      /idempotency\.lockTtlSeconds must be a number from 1 to 3600 seconds \(got 0\).*default of 30/,
    ],
    [{ idempotency: { retentionSeconds: 10 } }, /idempotency\.retentionSeconds must be a number from 60/],
    [
      { idempotency: { lockTtlSeconds: 120, retentionSeconds: 60 } },
      /lockTtlSeconds \(120\) must be shorter than idempotency\.retentionSeconds \(60\)/,
    ],
    [{ idempotency: { maxKeyLength: 8 } }, /idempotency\.maxKeyLength must be a number from 16 to 1024/],
    [
      { idempotency: { maxResponseBytes: 64 * 1024 * 1024 } },
      /idempotency\.maxResponseBytes must be a number from 0/,
    ],
    [
      { idempotency: { store: { acquire() {} } } },
      /idempotency\.store must implement acquire, complete, release, extend, checkpoint/,
    ],
  ])('refuses %j with a message that names the fix', (options, message) => {
    const run = () => validateOptions(options as unknown as KeypairAuthModuleOptions);
    expect(run).toThrow(KeypairAuthConfigurationError);
    expect(run).toThrow(message);
  });

  it('checks @Idempotent() options when the decorator is applied', () => {
    expect(validateIdempotentRouteOptions()).toEqual({
      required: true,
      lockTtlMs: undefined,
      retentionMs: undefined,
    });
    expect(validateIdempotentRouteOptions({ required: false, lockTtlSeconds: 2 })).toEqual({
      required: false,
      lockTtlMs: 2000,
      retentionMs: undefined,
    });
    expect(() => Idempotent({ lockTtlSeconds: 0 })).toThrow(
      /@Idempotent\(\) lockTtlSeconds must be a number from 1/,
    );
    expect(() => Idempotent({ retry: true } as never)).toThrow(/unknown option @Idempotent\(\) retry/);
  });
});

describe('readIdempotencyKey', () => {
  const read = (...values: string[]) =>
    readIdempotencyKey(
      values.flatMap((v) => ['Idempotency-Key', v]),
      255,
    );
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return (error as IdempotencyException).code;
    }
    return 'accepted';
  };

  it('reads an RFC 8941 String, ignoring parameters', () => {
    expect(read('"8e03978e-40d5-43e8-bc93-6894a57f9324"')).toBe('8e03978e-40d5-43e8-bc93-6894a57f9324');
    expect(read('  "a\\"b\\\\c";p=1  ')).toBe('a"b\\c');
    expect(readIdempotencyKey(['Host', 'x'], 255)).toBeUndefined();
  });

  it.each([
    ['token', 'abc'],
    ['integer', '12'],
    ['uuid without quotes', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['empty string', '""'],
    ['empty header', ''],
    ['inner list', '("a" "b")'],
    ['list', '"a", "b"'],
    ['display string', '%"caf%c3%a9"'],
    ['non-ASCII', '"café"'],
    ['too long', `"${'x'.repeat(256)}"`],
    ['very long junk', 'x'.repeat(100_000)],
  ])('refuses a %s', (_name, value) => {
    expect(code(() => read(value))).toBe('IDEMPOTENCY_KEY_INVALID');
  });

  it('refuses two header lines', () => {
    expect(code(() => read('"a"', '"a"'))).toBe('IDEMPOTENCY_KEY_INVALID');
  });
});

describe('requestFingerprint', () => {
  const req = (url = '/transfers', rawBody = Buffer.from('{"a":1,"b":[1,2]}')) => ({
    method: 'POST',
    url,
    rawBody,
  });

  it('is canonical JSON: key order and spacing do not matter; values, method, path and query do', () => {
    const a = requestFingerprint(req(), { a: 1, b: [1, 2] });
    expect(
      requestFingerprint(req('/transfers', Buffer.from('{ "b": [1,2], "a": 1 }')), { b: [1, 2], a: 1 }),
    ).toBe(a);
    expect(requestFingerprint(req(), { a: 1, b: [2, 1] })).not.toBe(a);
    expect(requestFingerprint(req(), { a: '1', b: [1, 2] })).not.toBe(a);
    expect(requestFingerprint(req('/transfers?x=1'), { a: 1, b: [1, 2] })).not.toBe(a);
    expect(requestFingerprint({ ...req(), method: 'PATCH' }, { a: 1, b: [1, 2] })).not.toBe(a);
  });

  it('hashes the raw bytes of a body that was not parsed as JSON', () => {
    const text = requestFingerprint(req('/x', Buffer.from('hello')), undefined);
    expect(requestFingerprint(req('/x', Buffer.from('hello')), undefined)).toBe(text);
    expect(requestFingerprint(req('/x', Buffer.from('hellO')), undefined)).not.toBe(text);
  });

  it('canonicalJson sorts keys at every level and gives up on what JSON cannot say', () => {
    expect(canonicalJson({ b: { d: 1, c: [true, null] }, a: 'x', u: undefined })).toBe(
      '{"a":"x","b":{"c":[true,null],"d":1}}',
    );
    expect(canonicalJson(Number.NaN)).toBeUndefined();
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(canonicalJson(deep)).toBeUndefined();
    // Too deep for canonical JSON: the raw bytes are hashed instead, still deterministic.
    expect(requestFingerprint(req(), deep)).toBe(requestFingerprint(req(), deep));
  });
});
