import { randomUUID } from 'node:crypto';
import {
  AuthUser,
  AuthUserDirectory,
  CertificateRegistry,
  encodeForwardedCertificate,
  IssuedCertificate,
} from '../../src';
import { signRequest } from '../../src/client';
import { createTestPki, TestPki } from '../support/certificates';
import { testKey } from '../support/keys';
import {
  connect,
  createWsTestApp,
  FLAVOURS,
  Opened,
  upgradeAnswer,
  WsClient,
  WsTestApp,
} from './websocket-test-app';

/** Users in memory, with a switch that makes every lookup fail (an outage of the user store). */
class SwitchableUsers implements AuthUserDirectory {
  private readonly users = new Map<string, AuthUser>();
  down = false;
  async findByUsername(username: string): Promise<AuthUser | null> {
    if (this.down) throw new Error('user store unreachable');
    return [...this.users.values()].find((u) => u.username === username) ?? null;
  }
  async findById(id: string): Promise<AuthUser | null> {
    if (this.down) throw new Error('user store unreachable');
    return this.users.get(id) ?? null;
  }
  async create(username: string, roles: string[]): Promise<AuthUser> {
    const user = { id: randomUUID(), username, roles, active: true };
    this.users.set(user.id, user);
    return user;
  }
}

/** The clock skew of the app: a certificate is accepted that long after its notAfter, by a request or a connection. */
const SKEW_SECONDS = 1;

function opened(result: Opened): WsClient {
  if (!result.open) throw new Error(`refused: ${result.status} ${JSON.stringify(result.body)}`);
  return result.client;
}

/** What nginx forwards for a verified client certificate, as one header object. */
function forwarded(cert: IssuedCertificate): Record<string, string> {
  const list = [...encodeForwardedCertificate('nginx', cert.certificate), 'X-SSL-Client-Verify', 'SUCCESS'];
  const headers: Record<string, string> = {};
  for (let i = 0; i < list.length; i += 2) headers[list[i]] = list[i + 1];
  return headers;
}

describe.each(FLAVOURS)('WebSocket credentials and outages over %s', (flavour) => {
  let t: WsTestApp;
  let pki: TestPki;
  const users = new SwitchableUsers();
  const clients: WsClient[] = [];
  const open = async (headers: Record<string, string>) => {
    const client = opened(await connect(t, headers));
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    pki = await createTestPki();
    t = await createWsTestApp({
      http: 'express',
      flavour,
      options: {
        users,
        clockSkewSeconds: SKEW_SECONDS,
        keyCache: { ttlSeconds: 1 },
        throttle: { maxFailures: 3, windowSeconds: 60 },
        clientCertificate: {
          format: 'nginx',
          trustedProxies: ['127.0.0.1'],
          caBundle: pki.caBundlePath,
          mapping: [{ by: 'fingerprint' }],
        },
      },
    });
  }, 60_000);
  afterEach(() => {
    users.down = false;
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    await t?.close();
    await pki?.cleanup();
  });

  it('a client certificate opens a connection; revoking its registration closes it: 4401 CERT_REVOKED', async () => {
    const cert = await pki.issue(`cert-${flavour}`);
    const user = await t.addUser(`carl-${flavour}`, ['reader']);
    await t.app.get(CertificateRegistry).register(user, cert.certPem);
    const client = await open(forwarded(cert));
    expect((await client.request('whoami')).data).toMatchObject({
      username: `carl-${flavour}`,
      method: 'client-certificate',
      keyId: cert.fingerprints.sha256Hex,
    });
    await t.app.get(CertificateRegistry).revoke(cert.fingerprints.sha256Hex);
    expect(await client.closed).toMatchObject({ code: 4401, reason: 'CERT_REVOKED' });
  });

  it("a client certificate's expiry (notAfter + clock skew, as for a request) closes its connection within one re-check: 4401 CERT_EXPIRED", async () => {
    const notAfter = new Date(Math.ceil((Date.now() + 3000) / 1000) * 1000);
    const cert = await pki.issue(`short-${flavour}`, { notAfter });
    const user = await t.addUser(`sue-${flavour}`, ['reader']);
    await t.app.get(CertificateRegistry).register(user, cert.certPem);
    const client = await open(forwarded(cert));
    await client.request('whoami');
    const closed = await client.closed;
    expect(closed).toMatchObject({ code: 4401, reason: 'CERT_EXPIRED' });
    const refusedFrom = notAfter.getTime() + SKEW_SECONDS * 1000;
    expect(closed.at).toBeGreaterThanOrEqual(refusedFrom);
    expect(closed.at - refusedFrom).toBeLessThan(250 + 500);
  });

  it('a re-check that cannot reach the user store closes the connection: 4503 AUTH_BACKEND_UNAVAILABLE (fail closed)', async () => {
    const key = testKey('ed25519', 3);
    const user = await t.addUser(`olga-${flavour}`, ['reader']);
    await t.registry.register(user, key.publicPem, { keyId: `olga-${flavour}` });
    const client = await open(
      signRequest(
        { method: 'GET', url: t.handshakeUrl },
        { keyId: `olga-${flavour}`, privateKey: key.privateKey },
      ).headers,
    );
    await client.request('whoami');
    users.down = true;
    // Once the cached account expires (keyCache.ttlSeconds 1), the re-check has to ask the store.
    expect(await client.closed).toMatchObject({ code: 4503, reason: 'AUTH_BACKEND_UNAVAILABLE' });
  });

  it('failed handshakes count for the throttle: then 429 AUTH_THROTTLED with Retry-After, before any check', async () => {
    const path = new URL(t.handshakeUrl).pathname + new URL(t.handshakeUrl).search;
    const answers = [];
    for (let i = 0; i < 4; i++)
      answers.push(await upgradeAnswer(t, path, { authorization: `JWT not-a-token-${i}` }));
    expect(answers.map((a) => [a.status, a.body.code])).toEqual([
      [401, 'MALFORMED_CREDENTIALS'],
      [401, 'MALFORMED_CREDENTIALS'],
      [401, 'MALFORMED_CREDENTIALS'],
      [429, 'AUTH_THROTTLED'],
    ]);
    expect(Number(answers[3].headers['retry-after'])).toBeGreaterThan(0);
    // A valid credential from the same address is refused too while the window lasts.
    const key = testKey('ed25519', 4);
    const signed = signRequest(
      { method: 'GET', url: t.handshakeUrl },
      { keyId: 'any', privateKey: key.privateKey },
    );
    expect((await upgradeAnswer(t, path, signed.headers)).status).toBe(429);
  });
});
