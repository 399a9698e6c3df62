import { request as httpRequest, type ClientRequest } from 'node:http';
import { cavage, createSigner } from 'http-message-signatures';
import request from 'supertest';
import { testKey, TestKeyPair } from '../support/keys';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';

/**
 * Cavage signatures made by third-party signers, sent over real HTTP, verified by the real
 * module on both adapters:
 * - joyent's `http-signature` (sshpk): Ed25519 as `ed25519-sha512`, RSA as `rsa-sha256`
 *   and `rsa-sha512`, P-256 as `ecdsa-sha256` (ASN.1 DER, as sshpk encodes ECDSA);
 * - `http-message-signatures` (its cavage module): P-384 as `ecdsa-sha384` (r||s). The
 *   joyent module cannot sign P-384: signRequest refuses SHA-384, shown below.
 */
interface JoyentSignOptions {
  key: string;
  keyId: string;
  algorithm?: string;
  headers?: string[];
}
// No type declarations ship with http-signature; the one function used is typed here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const joyent = require('http-signature') as {
  signRequest(request: ClientRequest, options: JoyentSignOptions): boolean;
};

const COVERED = ['(request-target)', 'host', 'date'];

describe.each(ADAPTERS)('Cavage signatures by third-party signers, on %s', (adapter) => {
  let t: TestApp;
  const ed = testKey('ed25519', 0);
  const p256 = testKey('p256', 0);
  const p384 = testKey('p384', 0);
  const rsa = testKey('rsa', 0);

  beforeAll(async () => {
    t = await createTestApp({ adapter, database: 'sqlite' });
    const user = await t.addUser('cav', ['reader']);
    await t.registry.register(user, ed.publicPem, { keyId: 'ed' });
    await t.registry.register(user, p256.publicPem, { keyId: 'p256' });
    await t.registry.register(user, p384.publicPem, { keyId: 'p384' });
    await t.registry.register(user, rsa.publicPem, { keyId: 'rsa' }); // no algorithm: PKCS#1 v1.5 family
  });
  afterAll(() => t.close());

  /** GET /probe/whoami signed by joyent's signRequest on a real http.ClientRequest. */
  // Each call its own path: two signatures over the same string in one second are a replay.
  let calls = 0;
  const joyentGet = (key: TestKeyPair, keyId: string, algorithm?: string) =>
    new Promise<{ status: number; body: Record<string, unknown>; authorization: string }>(
      (resolve, reject) => {
        const req = httpRequest(`${t.server}/probe/whoami?call=${++calls}`, { method: 'GET' });
        req.setHeader('date', new Date().toUTCString());
        try {
          joyent.signRequest(req, {
            key: key.privatePem,
            keyId,
            headers: COVERED,
            ...(algorithm ? { algorithm } : {}),
          });
        } catch (error) {
          req.on('error', () => undefined); // the aborted request's own "socket hang up"
          req.destroy();
          reject(error as Error);
          return;
        }
        const authorization = String(req.getHeader('authorization'));
        req.on('error', reject);
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(text) as Record<string, unknown>,
              authorization,
            }),
          );
        });
        req.end();
      },
    );

  it.each([
    ['ed25519-sha512', 'Ed25519', 'ed', undefined],
    ['rsa-sha256', 'RSA', 'rsa', undefined],
    ['rsa-sha512', 'RSA (registered without an algorithm)', 'rsa', 'rsa-sha512'],
    ['ecdsa-sha256', 'P-256 (DER)', 'p256', undefined],
  ] as const)('http-signature signs as %s with %s: 200', async (sent, _key, keyId, algorithm) => {
    const key = { ed, rsa, p256 }[keyId];
    const res = await joyentGet(key, keyId, algorithm);
    expect(res.authorization).toContain(`algorithm="${sent}"`);
    expect([res.status, res.body.username, res.body.method]).toEqual([200, 'cav', 'http-signature-cavage']);
  });

  it('http-signature cannot sign with P-384 (it refuses SHA-384)', async () => {
    await expect(joyentGet(p384, 'p384')).rejects.toThrow(/SHA384 is not a supported hash algorithm/);
  });

  it('http-message-signatures signs with P-384 as ecdsa-sha384 (IEEE P1363, not DER): 200', async () => {
    const url = `${t.server}/probe/whoami`;
    const signed = await cavage.signMessage(
      {
        key: createSigner(p384.privateKey, 'ecdsa-p384-sha384', 'p384'),
        fields: ['@request-target', 'host', 'date'],
        params: ['keyid', 'alg'],
        paramValues: { alg: 'ecdsa-sha384' },
      },
      { method: 'GET', url, headers: { host: new URL(url).host, date: new Date().toUTCString() } },
    );
    const headers = signed.headers as Record<string, string>;
    expect(headers.Signature).toContain('algorithm="ecdsa-sha384"');
    const res = await request(t.server)
      .get('/probe/whoami')
      .set('date', headers.date)
      .set('signature', headers.Signature);
    expect([res.status, res.body.username]).toEqual([200, 'cav']);
  });

  it('a name that disagrees with the key is refused like a bad signature', async () => {
    // joyent signs with the RSA key and names it rsa-sha256, but under the Ed25519 key's id.
    const res = await joyentGet(rsa, 'ed');
    expect(res.authorization).toContain('algorithm="rsa-sha256"');
    expect([res.status, res.body.code]).toEqual([401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID']);
  });
});
