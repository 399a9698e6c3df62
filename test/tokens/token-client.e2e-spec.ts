import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import request from 'supertest';
import { runCli } from '../../src/cli/cli-program';
import { createTokenClient, TokenRequestError } from '../../src/client';
import { testKey } from '../support/keys';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { TOKEN_CONTROLLERS, challengeLogin, serverKeys, whoami } from './token-test-support';

describe.each(ADAPTERS)('token client SDK and `login` CLI on %s', (adapter) => {
  let t: TestApp;
  const key = testKey('p256', 1);
  const adminKey = testKey('ed25519', 3);

  beforeAll(async () => {
    t = await createTestApp({
      adapter,
      database: 'sqlite',
      globalGuard: true, // the token endpoints are @Public(); POST /auth/token authenticates on its own
      controllers: TOKEN_CONTROLLERS,
      options: { responseSigning: { keys: serverKeys().keys }, tokens: {} },
    });
    const alice = await t.addUser('alice', ['reader', 'writer']);
    await t.registry.register(alice, key.publicPem, { keyId: 'alice-p256' });
    const root = await t.addUser('root', ['admin']);
    await t.registry.register(root, adminKey.publicPem, { keyId: 'root-ed' });
  });
  afterAll(() => t.close());

  const client = (options: Partial<Parameters<typeof createTokenClient>[0]> = {}) =>
    createTokenClient({ baseUrl: t.server, keyId: 'alice-p256', privateKey: key.privatePem, ...options });
  const revokeAlice = async () => {
    const admin = await challengeLogin(t.server, 'root-ed', adminKey.privateKey, 'ed25519');
    await request(t.server)
      .post('/admin/users/alice/revoke-tokens')
      .set('Authorization', `Bearer ${admin.body.accessToken}`)
      .expect(200);
  };

  it('logs in with a challenge, caches the access token, and calls the API', async () => {
    const c = client({ roles: ['reader'] });
    const res = await c.fetch(`${t.server}/probe/whoami`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ username: 'alice', method: 'access-token', roles: ['reader'] });
    const token = c.tokens?.accessToken;
    await c.fetch(`${t.server}/probe/whoami`);
    expect(c.tokens?.accessToken).toBe(token);
  });

  it('refreshes before expiry: the refresh token rotates', async () => {
    const c = client({ refreshLeewaySeconds: 600 }); // every token is "about to expire"
    await c.login();
    const first = c.tokens!;
    const token = await c.accessToken();
    expect(token).not.toBe(first.accessToken);
    expect(c.tokens!.refreshToken).not.toBe(first.refreshToken);
    // The rotated-out refresh token is spent.
    const reuse = await request(t.server).post('/auth/refresh').send({ refreshToken: first.refreshToken });
    expect(reuse.body.code).toBe('REFRESH_TOKEN_REUSED');
  });

  it('falls back to proving the key again when refreshing fails', async () => {
    const c = client();
    await c.login();
    const before = c.tokens!;
    await revokeAlice();
    const res = await c.fetch(`${t.server}/probe/whoami`); // 401 TOKEN_REVOKED → refresh refused → login
    expect(res.status).toBe(200);
    expect(c.tokens!.refreshToken).not.toBe(before.refreshToken);
    expect(decodeJwt(c.tokens!.accessToken).gen).toBeGreaterThan(decodeJwt(before.accessToken).gen as number);
  });

  it('logs in with a signed request instead, and binds tokens with DPoP', async () => {
    const c = client({ login: 'signed-request', dpop: true });
    const res = await c.fetch(`${t.server}/probe/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"n":1}',
    });
    expect([res.status, await res.json()]).toEqual([200, { n: 1 }]);
    expect(c.tokens!.tokenType).toBe('DPoP');
    const renewed = await c.refresh();
    expect(renewed.tokenType).toBe('DPoP');
    await c.logout();
    expect(c.tokens).toBeUndefined();
  });

  it('reports refusals with the server code', async () => {
    const c = client({ roles: ['admin'] });
    await expect(c.login()).rejects.toMatchObject({
      name: 'TokenRequestError',
      status: 403,
      code: 'ROLES_EXCEED_CREDENTIAL',
    });
    await expect(client({ keyId: 'nope' }).login()).rejects.toBeInstanceOf(TokenRequestError);
  });

  it('CLI: login --key K --key-id ID --url BASE prints the token pair as JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpa-login-'));
    const file = join(dir, 'alice.key');
    writeFileSync(file, key.privatePem, { mode: 0o600 });
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const code = await runCli(['login', '--key', file, '--key-id', 'alice-p256', '--url', t.server], io);
    expect([code, err]).toEqual([0, []]);
    const pair = JSON.parse(out[0]);
    expect(pair).toMatchObject({ tokenType: 'Bearer', expiresIn: 600, roles: ['reader', 'writer'] });
    await whoami(t.server, `Bearer ${pair.accessToken}`).expect(200);
    const refused = await runCli(
      ['login', '--key', file, '--key-id', 'alice-p256', '--url', t.server, '--roles', 'admin'],
      io,
    );
    expect(refused).toBe(1);
    expect(err.join('\n')).toMatch(/403 ROLES_EXCEED_CREDENTIAL/);
  });
});
