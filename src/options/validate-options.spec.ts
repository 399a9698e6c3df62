import { KeypairAuthConfigurationError } from '../errors/configuration.error';
import type { KeypairAuthModuleOptions } from '../keypair-auth-options.interface';
import { validateOptions } from './validate-options';

describe('validateOptions', () => {
  it('fills every default once', () => {
    const o = validateOptions({});
    expect(o.clockSkewMs).toBe(20_000);
    expect([...o.strategies]).toEqual(['jwt', 'http-signature']);
    expect(o.jwt).toEqual({
      maxLifetimeMs: 300_000,
      audience: null,
      requireRequestBinding: false,
      maxKeysPerUsernameLookup: 10,
      allowPssOnRsaKeys: false,
    });
    expect(o.keyCache).toEqual({
      max: 10_000,
      ttlMs: 60_000,
      negativeTtlMs: 5000,
      negativeMax: 10_000,
    });
    expect(o.origin).toBeNull();
  });

  it.each([
    [{ strategies: ['jwt', 'saml'] }, /unknown strategy "saml"\. Use one of: 'jwt', 'http-signature'/],
    [{ strategies: [] }, /strategies must be a non-empty array/],
    [
      { clockSkewSeconds: -1 },
      /clockSkewSeconds must be a number from 0 to 300 seconds.*got -1.*default of 20/,
    ],
    [{ clockSkewSeconds: 301 }, /clockSkewSeconds must be a number from 0 to 300/],
    [{ clockSkewSeconds: '20' }, /clockSkewSeconds must be a number/],
    [{ clockSkewSecs: 20 }, /unknown option clockSkewSecs\. Known options: strategies, clockSkewSeconds/],
    [{ jwt: { maxLifetime: 10 } }, /unknown option jwt\.maxLifetime/],
    [{ jwt: { maxLifetimeSeconds: 7200 } }, /jwt\.maxLifetimeSeconds must be a number from 1 to 3600/],
    [{ jwt: { audience: [] } }, /jwt\.audience must be a non-empty string/],
    [{ jwt: { allowPssOnRsaKeys: 'yes' } }, /jwt\.allowPssOnRsaKeys must be true or false/],
    [{ jwt: { allowPSSOnRsaKeys: true } }, /unknown option jwt\.allowPSSOnRsaKeys.*allowPssOnRsaKeys/],
    [{ origin: 'https://api.example.com/v1' }, /origin must be a scheme and authority.*no path/],
    [{ origin: 'ftp://x' }, /origin must be a scheme and authority/],
    [{ replayStore: {} }, /replayStore must implement claim/],
    [{ keyCache: { max: 0 } }, /keyCache\.max must be a number from 1/],
  ])('refuses %j with a message that names the fix', (options, message) => {
    const run = () => validateOptions(options as unknown as KeypairAuthModuleOptions);
    expect(run).toThrow(KeypairAuthConfigurationError);
    expect(run).toThrow(message);
  });

  it('jwt.allowPssOnRsaKeys is off unless set to true', () => {
    expect(validateOptions({}).jwt.allowPssOnRsaKeys).toBe(false);
    expect(validateOptions({ jwt: { allowPssOnRsaKeys: true } }).jwt.allowPssOnRsaKeys).toBe(true);
  });

  it('normalises origin', () => {
    expect(validateOptions({ origin: 'https://API.example.com/' }).origin).toBe('https://api.example.com');
  });
});
