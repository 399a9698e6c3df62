import { generateKeyPairSync } from 'node:crypto';
import {
  KeypairAuthConfigurationError,
  KeypairAuthException,
  KeypairAuthModuleOptions,
  ServerKeyring,
} from '../../src';
import { validateOptions } from '../../src/options/validate-options';
import { ChallengeIssuer } from '../../src/tokens/challenge';
import { comparableHtu, normalizeHtu } from '../../src/tokens/dpop-proof';
import { validateTokenOptions } from '../../src/tokens/token-options';

const key = () => generateKeyPairSync('ed25519').privateKey;

describe('tokens options', () => {
  it('fills the defaults', () => {
    expect(validateTokenOptions({}, true)).toEqual({
      accessTokenTtlMs: 600_000,
      refreshTokenTtlMs: 7 * 86_400_000,
      refreshFamilyMaxAgeMs: 30 * 86_400_000,
      challengeTtlMs: 60_000,
      issuer: null,
      audience: null,
      dpop: { maxAgeMs: 60_000, required: false },
    });
    expect(validateTokenOptions(undefined, false)).toBeNull();
  });

  it.each([
    [{}, false, /tokens are signed with the server keyring, but responseSigning\.keys is not set/],
    [{ accessTokenTtl: 60 }, true, /unknown option tokens\.accessTokenTtl\. Known options/],
    [
      { accessTokenTtlSeconds: 7200 },
      true,
      /tokens\.accessTokenTtlSeconds must be a whole number of seconds from 10 to 3600/,
    ],
    [{ challengeTtlSeconds: 300 }, true, /tokens\.challengeTtlSeconds .* from 5 to 60/],
    [
      { refreshTokenTtlSeconds: 86_400 * 40 },
      true,
      /refreshTokenTtlSeconds is longer than tokens\.refreshFamilyMaxAgeSeconds/,
    ],
    [{ dpop: { required: 'yes' } }, true, /tokens\.dpop\.required must be true or false/],
    [{ issuer: '' }, true, /tokens\.issuer must be a non-empty string/],
  ])('refuses %j with a message that names the fix', (raw, hasKeys, message) => {
    expect(() => validateTokenOptions(raw as never, hasKeys)).toThrow(message);
  });

  it("turns the 'access-token' strategy on with tokens, and refuses it without", () => {
    const keys = [{ keyId: 's1', privateKey: key() }];
    expect([...validateOptions({ responseSigning: { keys }, tokens: {} }).strategies]).toEqual([
      'jwt',
      'http-signature',
      'access-token',
    ]);
    expect([...validateOptions({}).strategies]).toEqual(['jwt', 'http-signature']);
    expect(() => validateOptions({ strategies: ['access-token'] } as KeypairAuthModuleOptions)).toThrow(
      /strategy 'access-token' needs the tokens option/,
    );
  });
});

describe('ServerKeyring', () => {
  it('signs with the first key, finds every key, publishes only public members', () => {
    const ring = new ServerKeyring([
      { keyId: 'new', privateKey: key() },
      { keyId: 'old', privateKey: generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey },
    ]);
    expect(ring.current.keyId).toBe('new');
    expect(ring.find('old')?.jwsAlgorithm).toBe('ES384');
    expect(ring.find('nope')).toBeUndefined();
    const { keys } = ring.jwks();
    expect(keys.map((k) => [k.kid, k.alg, k.use])).toEqual([
      ['new', 'EdDSA', 'sig'],
      ['old', 'ES384', 'sig'],
    ]);
    for (const k of keys) expect(k).not.toHaveProperty('d');
  });

  it('refuses an empty list, a duplicated keyId and a public key', () => {
    expect(() => new ServerKeyring([])).toThrow(/responseSigning\.keys must list at least one key/);
    const k = key();
    expect(
      () =>
        new ServerKeyring([
          { keyId: 'a', privateKey: k },
          { keyId: 'a', privateKey: key() },
        ]),
    ).toThrow(KeypairAuthConfigurationError);
    expect(
      () => new ServerKeyring([{ keyId: 'p', privateKey: generateKeyPairSync('ed25519').publicKey }]),
    ).toThrow(/is not a private key/);
  });
});

describe('ChallengeIssuer', () => {
  const codeOf = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (error) {
      return (error as KeypairAuthException).code;
    }
    return undefined;
  };

  it('checks its own challenges for the keyId, until they expire, across a keyring rotation', () => {
    const oldKey = { keyId: 'old', privateKey: key() };
    const issuer = new ChallengeIssuer(new ServerKeyring([oldKey]), 60_000);
    const now = Date.now();
    const { challenge, expiresIn } = issuer.issue('k1', now);
    expect(expiresIn).toBe(60);
    expect(issuer.check('k1', challenge, now).nonce).toBe(challenge.split('.')[0]);
    expect(codeOf(() => issuer.check('k2', challenge, now))).toBe('CHALLENGE_INVALID');
    expect(codeOf(() => issuer.check('k1', challenge, now + 61_000))).toBe('CHALLENGE_INVALID');
    expect(codeOf(() => issuer.check('k1', `${challenge}x`, now))).toBe('CHALLENGE_INVALID');

    const rotated = new ChallengeIssuer(
      new ServerKeyring([{ keyId: 'new', privateKey: key() }, oldKey]),
      60_000,
    );
    expect(rotated.check('k1', challenge, now).nonce).toBeDefined();
    const other = new ChallengeIssuer(new ServerKeyring([{ keyId: 'x', privateKey: key() }]), 60_000);
    expect(codeOf(() => other.check('k1', challenge, now))).toBe('CHALLENGE_INVALID');
  });
});

describe('comparableHtu (the form a DPoP htu is compared in)', () => {
  it('normalises scheme, host, default port and percent-encoding of unreserved characters only', () => {
    expect(comparableHtu('HTTPS://API.Example.TEST:443/a/%7ex/%c3%a9?q=1#f')).toBe(
      'https://api.example.test/a/~x/%C3%A9',
    );
    expect(comparableHtu('http://h.test')).toBe('http://h.test/');
    expect(comparableHtu('http://h.test:8080/a%2Fb')).toBe('http://h.test:8080/a%2Fb');
  });

  it('keeps dot segments, so a proof for /x/%2e%2e/a/b is not one for /a/b', () => {
    expect(comparableHtu('http://h.test/x/%2e%2e/a/b')).toBe('http://h.test/x/../a/b');
    expect(comparableHtu('http://h.test/x/../a/b')).not.toBe(comparableHtu('http://h.test/a/b'));
  });

  it('refuses a backslash in the path, userinfo, another scheme and a bad port', () => {
    for (const value of [
      'http://h.test/x\\..\\a/b',
      'http://u@h.test/a',
      'ftp://h.test/a',
      'http://h.test:99999/a',
      '/a/b',
    ])
      expect(comparableHtu(value)).toBeNull();
  });

  it('agrees with the htu the client SDK writes for an ordinary URL', () => {
    const url = 'https://API.example.test:443/a b/é/~x?q';
    expect(comparableHtu(normalizeHtu(url)!)).toBe(comparableHtu('https://api.example.test/a%20b/%C3%A9/~x'));
  });
});
