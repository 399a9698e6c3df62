import { join } from 'node:path';
import { createDpopProof, signRequest, SignRequestOptions } from '../../src/client';
import { CertificateRegistry, IssuedCertificate, revoke, TokenService } from '../../src';
import {
  createTestPki,
  HOSTILE_SUBJECTS,
  send,
  SendOptions,
  SendResult,
  TestPki,
} from '../support/certificates';
import { testKey, TestKeyPair } from '../support/keys';
import { AdapterName, createTestApp, TestApp } from '../support/test-app';
import { sign } from '../support/tokens';
import { challengeLogin, LoginResult, serverKeys, TOKEN_CONTROLLERS } from '../tokens/token-test-support';

/** The trusted proxy of the test app (this process) and an attacker's address. */
export const TRUSTED_PROXY = '127.0.0.1';
export const ATTACKER = '127.0.0.3';

export type Keys = Record<
  'ed' | 'p256' | 'rsa' | 'reader' | 'bob' | 'carol' | 'erin' | 'dave' | 'stranger',
  TestKeyPair
>;

/** Everything the attack cases need: the app, its registered keys and certificates, and request helpers. */
export interface AttackEnv {
  readonly adapter: AdapterName;
  readonly t: TestApp;
  readonly port: number;
  readonly keys: Keys;
  readonly certs: Record<string, IssuedCertificate>;
  readonly server: ReturnType<typeof serverKeys>;
  readonly tokens: Record<'alice' | 'reader' | 'bound' | 'revoked', LoginResult['body']>;
  /** Sends one request to the app on a fresh connection (headers may be a flat list, for duplicates). */
  send(path: string, options?: SendOptions): Promise<SendResult>;
  /** `JWT <token>` with exactly this header and these claims, signed by `key`. */
  jwt(
    key: TestKeyPair,
    header: { alg: string; [k: string]: unknown },
    claims: Record<string, unknown>,
  ): Promise<string>;
  /** The headers of a request signed by the client SDK for this app's authority. */
  signed(
    method: string,
    path: string,
    key: TestKeyPair,
    options: Partial<SignRequestOptions> & { keyId: string },
    request?: { headers?: Record<string, string>; body?: string },
  ): Record<string, string>;
  dpop(method: string, path: string, accessToken?: string): Promise<string>;
}

let pkiPromise: Promise<{ pki: TestPki; certs: Record<string, IssuedCertificate> }> | undefined;

/** One PKI for the whole corpus: our CA (with a CRL that revokes one certificate), another CA, and the certificates. */
export function corpusPki(): Promise<{ pki: TestPki; certs: Record<string, IssuedCertificate> }> {
  pkiPromise ??= (async () => {
    const pki = await createTestPki();
    const certs: Record<string, IssuedCertificate> = {};
    for (const name of ['registered', 'revokedReg', 'crlRevoked', 'inactive', 'unregistered'])
      certs[name] = await pki.issue(name);
    certs.expired = await pki.issueExpired('expired');
    certs.otherCa = await pki.issueFromOtherCa('registered');
    certs.noEku = await pki.issue('no-eku', { extendedKeyUsages: [] });
    for (const name of ['cn-with-slash', 'two-cns', 'cn-utf8-lookalike', 'cn-zero-width', 'cn-bidi-override'])
      certs[name] = await pki.issue(`hostile-${name}`, { subject: HOSTILE_SUBJECTS[name] });
    await revoke(join(pki.dir, 'ca'), certs.crlRevoked.serialNumber);
    return { pki, certs };
  })();
  return pkiPromise;
}

/**
 * The app under attack: every strategy on (asymmetric JWT, RFC 9421 and Cavage,
 * client certificates forwarded by a trusted proxy with caBundle and CRL, access
 * tokens with DPoP), the admin and self-service API, on in-memory SQLite.
 */
export async function createAttackEnv(adapter: AdapterName): Promise<AttackEnv> {
  const { pki, certs } = await corpusPki();
  const server = serverKeys();
  const t = await createTestApp({
    adapter,
    database: 'sqlite',
    controllers: TOKEN_CONTROLLERS,
    jwksEndpoint: true,
    options: {
      httpSignature: { maxBodyBytes: 2048 },
      clientCertificate: {
        format: 'nginx',
        trustedProxies: [TRUSTED_PROXY],
        caBundle: pki.caBundlePath,
        crlFile: pki.crlPath,
        mapping: [{ by: 'fingerprint' }, { by: 'subject-cn' }],
      },
      responseSigning: { keys: server.keys },
      tokens: {},
    },
  });
  const keys: Keys = {
    ed: testKey('ed25519', 0),
    p256: testKey('p256', 0),
    rsa: testKey('rsa', 0),
    reader: testKey('ed25519', 1),
    bob: testKey('ed25519', 2),
    carol: testKey('ed25519', 3),
    erin: testKey('ed25519', 4),
    dave: testKey('ed25519', 5),
    stranger: testKey('ed25519', 6),
  };
  const { registry } = t;
  const alice = await t.addUser('alice', ['admin', 'reader']);
  await registry.register(alice, keys.ed.publicPem, { keyId: 'alice-ed' });
  await registry.register(alice, keys.p256.publicPem, { keyId: 'alice-p256' });
  await registry.register(alice, keys.rsa.publicPem, { keyId: 'alice-rsa' });
  await registry.register(alice, keys.reader.publicPem, { keyId: 'alice-reader', roles: ['reader'] });
  const bob = await t.addUser('bob', ['reader']);
  await registry.register(bob, keys.bob.publicPem, { keyId: 'bob-1' });
  const carol = await t.addUser('carol', ['reader']);
  await registry.register(carol, keys.carol.publicPem, { keyId: 'carol-1' });
  await registry.revoke('carol-1');
  const erin = await t.addUser('erin', ['reader']);
  await registry.register(erin, keys.erin.publicPem, {
    keyId: 'erin-1',
    expiresAt: new Date(Date.now() + 300),
  });
  const dave = await t.addUser('dave', ['reader']);
  await registry.register(dave, keys.dave.publicPem, { keyId: 'dave-1' });
  await registry.directory.setActive!(dave.id, false);
  registry.forgetUser(dave.id);

  const certificates = t.app.get(CertificateRegistry);
  const cert = await t.addUser('certuser', ['reader']);
  await certificates.register(cert, certs.registered.certPem);
  await certificates.register(cert, certs.crlRevoked.certPem);
  const revokedReg = await certificates.register(cert, certs.revokedReg.certPem);
  await certificates.revoke(revokedReg.fingerprint);
  const ivy = await t.addUser('ivy', ['reader']);
  await certificates.register(ivy, certs.inactive.certPem);
  await registry.directory.setActive!(ivy.id, false);
  registry.forgetUser(ivy.id);
  await t.addUser('admin', ['admin']); // what the hostile subjects try to become

  const login = async (
    keyId: string,
    key: TestKeyPair,
    extra: Record<string, unknown> = {},
    headers = {},
  ) => {
    const res = await challengeLogin(t.server, keyId, key.privateKey, 'ed25519', extra, headers);
    if (res.status !== 200) throw new Error(`login for ${keyId} failed: ${res.status} ${res.body.code}`);
    return res.body;
  };
  const port = Number(new URL(t.server).port);
  const dpop = (method: string, path: string, accessToken?: string) =>
    createDpopProof({ privateKey: keys.stranger.privateKey, method, url: `${t.server}${path}`, accessToken });
  const tokenUser = await t.addUser('tokuser', ['reader']);
  const tokKey = testKey('ed25519', 7);
  await registry.register(tokenUser, tokKey.publicPem, { keyId: 'tok-1' });
  const tokens = {
    alice: await login('alice-ed', keys.ed),
    reader: await login('alice-reader', keys.reader),
    bound: await login('bob-1', keys.bob, {}, { DPoP: await dpop('POST', '/auth/token') }),
    revoked: await login('tok-1', tokKey),
  };
  await t.app.get(TokenService).revokeUserTokens(tokenUser.id);
  await new Promise((r) => setTimeout(r, 350)); // erin's key is past its expiry now

  return {
    adapter,
    t,
    port,
    keys,
    certs,
    server,
    tokens,
    send: (path, options = {}) => send(`${t.server}${path}`, { localAddress: TRUSTED_PROXY, ...options }),
    jwt: async (key, header, claims) => `JWT ${await sign(key.privateKey, header, claims)}`,
    signed: (method, path, key, options, request = {}) => {
      const url = `${t.server}${path}`;
      const headers = {
        ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...request.headers,
      };
      return signRequest(
        { method, url, headers, body: request.body },
        { privateKey: key.privateKey, ...options },
      ).headers;
    },
    dpop,
  };
}
