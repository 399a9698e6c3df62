import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { throttleStoreContract } from '../testing';
import type { AuthRequest } from '../http/auth-request';
import { AuthThrottle } from './auth-throttle';
import { MemoryThrottleStore } from './memory-throttle.store';
import { validateThrottleOptions } from './throttle-options';
import { addressKey, claimedIdentity, identityStoreKey } from './throttle-keys';
import type { ThrottleStore } from './throttle-store.interface';

throttleStoreContract('memory', async () => ({ store: new MemoryThrottleStore() }));

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('claimedIdentity: the key id a request claims, unverified', () => {
  const { privateKey } = generateKeyPairSync('ed25519');

  it.each([
    [
      'RFC 9421 keyid',
      ['Signature-Input', 'sig1=("@method");created=1;keyid="k-1";nonce="n"'],
      { keyId: 'k-1' },
    ],
    [
      'RFC 9421 keyid with an escaped quote',
      ['signature-input', 'sig1=();keyid="a\\"b"'],
      { keyId: 'a\\"b' },
    ],
    [
      'Cavage Signature header',
      ['Signature', 'keyId="rsa-1",algorithm="hs2019",signature="AA=="'],
      { keyId: 'rsa-1' },
    ],
    ['Cavage in Authorization', ['Authorization', 'Signature keyId="c",signature="AA=="'], { keyId: 'c' }],
    [
      'JWT kid',
      ['Authorization', `JWT ${b64({ alg: 'EdDSA', kid: 'alice-ed' })}.${b64({})}.x`],
      { keyId: 'alice-ed' },
    ],
    [
      'JWT without kid: the username',
      ['Authorization', `Bearer ${b64({ alg: 'EdDSA' })}.${b64({ username: 'alice' })}.x`],
      { username: 'alice' },
    ],
    [
      'access token: key_id, not the server kid',
      [
        'Authorization',
        `DPoP ${b64({ alg: 'EdDSA', kid: 'srv', typ: 'at+jwt' })}.${b64({ key_id: 'k9' })}.x`,
      ],
      { keyId: 'k9' },
    ],
    ['nothing', ['Accept', '*/*'], undefined],
    ['junk JWT', ['Authorization', 'JWT %%%.x.y'], undefined],
    ['JWT header that is not JSON', ['Authorization', 'JWT abc.def.ghi'], undefined],
  ] as const)('%s', (_name, headers, expected) => {
    expect(claimedIdentity(headers)).toEqual(expected);
  });

  it('reads a real token and cuts long ids to 512 characters', async () => {
    const token = await new SignJWT({ sub: 'a' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'x'.repeat(2000) })
      .sign(privateKey);
    expect(claimedIdentity(['Authorization', `JWT ${token}`])?.keyId).toHaveLength(512);
  });

  it('hashes identities into bounded store keys', () => {
    const key = identityStoreKey({ keyId: 'x'.repeat(10_000) });
    expect(key).toMatch(/^k:[A-Za-z0-9_-]{43}$/);
    expect(identityStoreKey({ keyId: 'a' })).not.toBe(identityStoreKey({ username: 'a' }));
  });
});

describe('addressKey', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::ffff:1.2.3.4:5', '::ffff:1.2.3.4:5'],
  ])('%s → %s', (address, expected) => {
    expect(addressKey(address)).toBe(expected);
  });
});

describe('validateThrottleOptions', () => {
  it('is off without the block, and fills the defaults', () => {
    expect(validateThrottleOptions(undefined)).toBeNull();
    expect(validateThrottleOptions({})).toEqual({
      maxFailures: 20,
      windowMs: 60_000,
      store: undefined,
      byAddress: true,
      byKeyId: true,
      clientAddress: undefined,
    });
  });

  it.each([
    [{ maxFailures: 0 }, /maxFailures must be a whole number from 1/],
    [{ windowSeconds: 1.5 }, /windowSeconds/],
    [{ by: [] }, /throttle.by must list/],
    [{ by: ['ip'] }, /throttle.by must list/],
    [{ store: {} }, /throttle.store must implement hit/],
    [{ clientAddress: 'x-forwarded-for' }, /clientAddress must be a function/],
    [{ limit: 3 }, /unknown option throttle.limit/],
  ])('refuses %j', (raw, message) => {
    expect(() => validateThrottleOptions(raw as never)).toThrow(message);
  });
});

describe('AuthThrottle', () => {
  const request = (remoteAddress: string, headers: string[] = []): AuthRequest =>
    ({
      method: 'GET',
      url: '/',
      rawHeaders: headers,
      rawBody: undefined,
      remoteAddress,
      encrypted: false,
    }) as never;
  const settings = validateThrottleOptions({ maxFailures: 3, windowSeconds: 60 })!;

  it('blocks an address after maxFailures, until the window ends; other addresses go on', async () => {
    const store = new MemoryThrottleStore();
    const throttle = new AuthThrottle(settings, store);
    const a = request('10.0.0.1');
    for (let i = 0; i < 3; i++) {
      expect(throttle.check(null, a)).toBeNull();
      await throttle.recordFailure(null, a);
    }
    const wait = throttle.check(null, a);
    expect(wait).toBeGreaterThan(59_000);
    expect(throttle.check(null, request('10.0.0.2'))).toBeNull();
    expect(throttle.check(null, a, undefined, Date.now() + 60_001)).toBeNull();
  });

  it('blocks a claimed key id from any address', async () => {
    const throttle = new AuthThrottle(
      validateThrottleOptions({ maxFailures: 2, by: ['keyId'] })!,
      new MemoryThrottleStore(),
    );
    const claim = ['Signature-Input', 'sig1=();keyid="victim"'];
    await throttle.recordFailure(null, request('10.0.0.1', claim));
    await throttle.recordFailure(null, request('10.0.0.2', claim));
    expect(throttle.check(null, request('10.0.0.3', claim))).not.toBeNull();
    expect(
      throttle.check(null, request('10.0.0.3', ['Signature-Input', 'sig1=();keyid="other"'])),
    ).toBeNull();
    expect(throttle.check(null, request('10.0.0.3'))).toBeNull();
  });

  it('fails open when the store rejects: nothing is blocked, nothing throws', async () => {
    const broken: ThrottleStore = { hit: () => Promise.reject(new Error('down')) };
    const throttle = new AuthThrottle(settings, broken);
    const a = request('10.0.0.1');
    for (let i = 0; i < 10; i++) await expect(throttle.recordFailure(null, a)).resolves.toBeUndefined();
    expect(throttle.check(null, a)).toBeNull();
  });

  it('uses clientAddress when given, the TCP peer when it answers nothing or throws', async () => {
    const seen: string[] = [];
    const store: ThrottleStore = { hit: async (key) => (seen.push(key), { count: 1, resetInMs: 1000 }) };
    const answers = ['203.0.113.7', undefined, 'throw'];
    const throttle = new AuthThrottle(
      validateThrottleOptions({
        by: ['address'],
        clientAddress: () => {
          const next = answers.shift();
          if (next === 'throw') throw new Error('no');
          return next;
        },
      })!,
      store,
    );
    for (let i = 0; i < 3; i++) await throttle.recordFailure({}, request('10.0.0.1'));
    expect(seen).toEqual(['a:203.0.113.7', 'a:10.0.0.1', 'a:10.0.0.1']);
  });
});
