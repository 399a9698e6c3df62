import { generateKeyPairSync } from 'node:crypto';
import { jwkThumbprint } from '../keys/jwk-thumbprint';
import { parseDirectory } from './agent-directory';
import type { FetchedDirectory } from './directory-fetcher';
import { DIRECTORY_DEFAULTS, DIRECTORY_MEDIA_TYPE } from './web-bot-auth-options';

/** RFC 9421 Appendix B.1.4's Ed25519 key: its private half is published in the RFC. */
const RFC9421_ED25519 = { kty: 'OKP', crv: 'Ed25519', x: 'JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs' };

describe('parseDirectory: published test keys', () => {
  const options = { ...DIRECTORY_DEFAULTS, ca: [] };
  const fetched = (keys: object[]): FetchedDirectory => ({
    body: Buffer.from(JSON.stringify({ keys })),
    rawHeaders: ['Content-Type', DIRECTORY_MEDIA_TYPE],
    cacheControl: undefined,
    fetchedAt: 0,
    authority: 'agent.example',
  });

  it('never keeps the RFC 9421 example key, and keeps an ordinary key beside it', () => {
    const own = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    const skipped: string[] = [];
    const keys = parseDirectory(fetched([RFC9421_ED25519, own]), options, 0, (reason) =>
      skipped.push(reason),
    );
    expect([...keys.keys()]).toEqual([jwkThumbprint(own)]);
    expect(keys.has('poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U')).toBe(false);
    expect(skipped).toEqual([
      expect.stringMatching(/poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U.*private key is public/),
    ]);
  });
});
