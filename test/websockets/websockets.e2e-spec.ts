import { KeyAdminService, TokenService } from '../../src';
import { signRequest } from '../../src/client';
import { jwtHeader } from '../support/auth';
import { testKey } from '../support/keys';
import { ADAPTERS } from '../support/test-app';
import { challengeLogin, resign, serverKeys, TOKEN_CONTROLLERS } from '../tokens/token-test-support';
import { connect, createWsTestApp, FLAVOURS, Opened, seen, WsClient, WsTestApp } from './websocket-test-app';

/** keyCache.ttlSeconds of these apps, and the re-check period the adapters derive from it (ttl / 4). */
const TTL_SECONDS = 1;
const RECHECK_MS = 250;

const combos = ADAPTERS.flatMap((http) => FLAVOURS.map((flavour) => [flavour, http] as const));

function opened(result: Opened): WsClient {
  if (!result.open) throw new Error(`refused: ${result.status} ${JSON.stringify(result.body)}`);
  return result.client;
}

describe.each(combos)('WebSockets over %s on %s', (flavour, http) => {
  let t: WsTestApp;
  const server = serverKeys();
  const admin = testKey('ed25519', 0);
  const reader = testKey('ed25519', 1);
  const carol = testKey('ed25519', 2);
  const clients: WsClient[] = [];

  /** The handshake headers of a GET of the handshake URL, signed (RFC 9421, fresh nonce) with `keyId`. */
  const signed = (keyId: string, privateKey = admin.privateKey) =>
    signRequest({ method: 'GET', url: t.handshakeUrl }, { keyId, privateKey }).headers;
  const open = async (headers: Record<string, string>) => {
    const client = opened(await connect(t, headers));
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    t = await createWsTestApp({
      http,
      flavour,
      controllers: TOKEN_CONTROLLERS,
      options: {
        keyCache: { ttlSeconds: TTL_SECONDS },
        responseSigning: { keys: server.keys },
        tokens: {},
      },
    });
    const alice = await t.addUser('alice', ['admin', 'reader']);
    await t.registry.register(alice, admin.publicPem, { keyId: 'alice-admin' });
    await t.registry.register(alice, reader.publicPem, { keyId: 'alice-reader', roles: ['reader'] });
    await t.registry.register(await t.addUser('carol', ['reader']), carol.publicPem, { keyId: 'carol-ed' });
  }, 60_000);

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('an unsigned handshake is refused (401 CREDENTIALS_MISSING, WWW-Authenticate) before `connection`', async () => {
    const before = seen.connections;
    const result = await connect(t, {});
    expect(result).toMatchObject({ open: false, status: 401, body: { code: 'CREDENTIALS_MISSING' } });
    expect(result.open === false && result.headers['www-authenticate']).toContain('Signature');
    expect(seen.connections).toBe(before);
    expect(t.logs.failures().at(-1)).toMatchObject({ code: 'CREDENTIALS_MISSING', status: 401 });
  });

  it('a signed handshake connects, and the connection carries its SecurityContext', async () => {
    const before = seen.connections;
    const client = await open(signed('alice-admin'));
    expect(seen.connections).toBe(before + 1);
    const answer = await client.request('whoami');
    expect(answer).toEqual({
      event: 'whoami',
      data: {
        username: 'alice',
        keyId: 'alice-admin',
        method: 'http-signature-rfc9421',
        roles: ['admin', 'reader'],
        expiresAt: null,
      },
    });
  });

  it('a client JWT and an access token in the Authorization header open a connection too', async () => {
    const jwt = await open({ authorization: await jwtHeader(admin.privateKey, 'alice', 'alice-admin') });
    expect((await jwt.request('whoami')).data).toMatchObject({ username: 'alice', method: 'jwt' });
    const login = await challengeLogin(t.server, 'alice-admin', admin.privateKey, 'ed25519');
    expect(login.status).toBe(200);
    const token = await open({ authorization: `Bearer ${login.body.accessToken}` });
    const who = await token.request('whoami');
    expect(who.data).toMatchObject({ username: 'alice', method: 'access-token' });
    expect(who.data.expiresAt).toBeGreaterThan(Date.now());
  });

  it('@Roles is enforced per message: a reader key gets 403 ROLE_REQUIRED, an admin key the answer', async () => {
    const readerClient = await open(signed('alice-reader', reader.privateKey));
    seen.handled.length = 0;
    const refused = await readerClient.request('admin');
    expect(refused).toEqual({
      event: 'exception',
      data: { status: 403, code: 'ROLE_REQUIRED', message: 'The credential does not grant a required role.' },
    });
    expect(seen.handled).toEqual([]);
    // The same connection still answers what its roles allow.
    expect((await readerClient.request('whoami')).data).toMatchObject({ roles: ['reader'] });
    const adminClient = await open(signed('alice-admin'));
    expect(await adminClient.request('admin')).toEqual({
      event: 'admin',
      data: { ok: true, username: 'alice' },
    });
  });

  it('the SecurityContext on the connection is read-only', async () => {
    const client = await open(signed('carol-ed', carol.privateKey));
    expect((await client.request('swap')).data).toEqual({ username: 'carol', error: 'TypeError' });
    expect((await client.request('whoami')).data).toMatchObject({ username: 'carol' });
  });

  it('a key revoked through the registry closes its connection at once: 4401 KEY_REVOKED', async () => {
    const other = testKey('p256', 3);
    const user = await t.addUser(`dave-${flavour}-${http}`, ['reader']);
    await t.registry.register(user, other.publicPem, { keyId: 'dave-p256' });
    const client = await open(signed('dave-p256', other.privateKey));
    expect((await client.request('whoami')).data).toMatchObject({ keyId: 'dave-p256' });
    const revokedAt = Date.now();
    await t.registry.revoke('dave-p256');
    const closed = await client.closed;
    expect(closed).toMatchObject({ code: 4401, reason: 'KEY_REVOKED' });
    expect(closed.at - revokedAt).toBeLessThan(500);
  });

  it('a key revoked behind the cache (SQL) closes its connection within keyCache.ttlSeconds (+ the re-check period)', async () => {
    const key = testKey('ed25519', 4);
    const user = await t.addUser(`erin-${flavour}-${http}`, ['reader']);
    await t.registry.register(user, key.publicPem, { keyId: 'erin-ed' });
    const client = await open(signed('erin-ed', key.privateKey));
    await client.request('whoami');
    const revokedAt = Date.now();
    await t.dataSource.query('UPDATE keypair_auth_public_keys SET revokedAt = ? WHERE keyId = ?', [
      revokedAt,
      'erin-ed',
    ]);
    const closed = await client.closed;
    expect(closed).toMatchObject({ code: 4401, reason: 'KEY_REVOKED' });
    // The cache may have served the key up to TTL after the change; one re-check period, then slack for the close.
    expect(closed.at - revokedAt).toBeLessThanOrEqual(TTL_SECONDS * 1000 + RECHECK_MS + 300);
    expect(t.logs.failures().at(-1)).toMatchObject({ code: 'KEY_REVOKED' });
  });

  it('an account deactivated through the registry closes its connections: 4401 USER_INACTIVE', async () => {
    const key = testKey('ed25519', 5);
    const user = await t.addUser(`frank-${flavour}-${http}`, ['reader']);
    await t.registry.register(user, key.publicPem, { keyId: 'frank-ed' });
    const client = await open(signed('frank-ed', key.privateKey));
    await client.request('whoami');
    await t.app.get(KeyAdminService).setActive(user.username, false);
    expect(await client.closed).toMatchObject({ code: 4401, reason: 'USER_INACTIVE' });
  });

  it("an access token's expiry closes its connection at exp: 4401 TOKEN_EXPIRED", async () => {
    const login = await challengeLogin(t.server, 'alice-admin', admin.privateKey, 'ed25519');
    const exp = Math.floor(Date.now() / 1000) + 2;
    const short = await resign(login.body.accessToken, server.current, {}, { exp });
    const client = await open({ authorization: `Bearer ${short}` });
    expect((await client.request('whoami')).data).toMatchObject({ expiresAt: exp * 1000 });
    const closed = await client.closed;
    expect(closed).toMatchObject({ code: 4401, reason: 'TOKEN_EXPIRED' });
    expect(closed.at).toBeGreaterThanOrEqual(exp * 1000);
    expect(closed.at - exp * 1000).toBeLessThan(500);
  });

  it("revoking a user's tokens closes the connections their access tokens opened: 4401 TOKEN_REVOKED", async () => {
    const key = testKey('ed25519', 6);
    const user = await t.addUser(`gina-${flavour}-${http}`, ['reader']);
    await t.registry.register(user, key.publicPem, { keyId: `gina-${flavour}-${http}` });
    const login = await challengeLogin(t.server, `gina-${flavour}-${http}`, key.privateKey, 'ed25519');
    const client = await open({ authorization: `Bearer ${login.body.accessToken}` });
    await client.request('whoami');
    await t.app.get(TokenService).revokeUserTokens(user.id);
    expect(await client.closed).toMatchObject({ code: 4401, reason: 'TOKEN_REVOKED' });
  });

  it('an account that lost a role its connection holds closes it: 4403 ROLE_REQUIRED', async () => {
    const key = testKey('ed25519', 7);
    const user = await t.addUser(`hank-${flavour}-${http}`, ['admin', 'reader']);
    await t.registry.register(user, key.publicPem, { keyId: `hank-${flavour}-${http}` });
    const client = await open(signed(`hank-${flavour}-${http}`, key.privateKey));
    expect((await client.request('admin')).event).toBe('admin');
    await t.dataSource.query('UPDATE keypair_auth_users SET roles = ? WHERE id = ?', [
      JSON.stringify(['reader']),
      user.id,
    ]);
    t.registry.forgetUser(user.id);
    expect(await client.closed).toMatchObject({ code: 4403, reason: 'ROLE_REQUIRED' });
  });

  it('closed connections leave no watched connection and no timer behind', async () => {
    for (const client of clients.splice(0)) client.close();
    const adapter = (
      t.app as unknown as { config: { getIoAdapter(): { auth?: { lifetime: { size: number } } } } }
    ).config.getIoAdapter();
    const deadline = Date.now() + 2000;
    while (adapter.auth!.lifetime.size > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(adapter.auth!.lifetime.size).toBe(0);
  });
});
