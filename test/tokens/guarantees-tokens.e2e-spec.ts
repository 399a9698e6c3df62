import { createHash, createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { decodeJwt } from 'jose';
import request from 'supertest';
import {
  dataSourceOptionsFromUrl,
  KeypairAuthModule,
  KeypairAuthModuleOptions,
  PublicKey,
  User,
} from '../../src';
import { send } from '../support/certificates';
import { testKey } from '../support/keys';
import { ProbeController } from '../support/probe.controller';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { DATABASES } from '../support/test-database';
import { challengeLogin, resign, serverKeys, TOKEN_CONTROLLERS, whoami } from './token-test-support';

const HMAC_SECRET = randomBytes(32);
const TRUSTED = '127.0.0.1';
const ISSUER = 'https://issuer.example.test';
const AUDIENCE = 'https://api.example.test';
const TTL = 60;
const FAMILY = 150;

const refresh = (server: string, refreshToken: string) =>
  request(server).post('/auth/refresh').send({ refreshToken });
const codeOf = (res: { status: number; body: { code?: string } }) => [res.status, res.body.code];

/** Makes the app (same process) see the clock `offsetMs` ahead while `fn` runs. */
async function later<T>(offsetMs: number, fn: () => Promise<T>): Promise<T> {
  const real = Date.now.bind(Date);
  const spy = jest.spyOn(Date, 'now').mockImplementation(() => real() + offsetMs);
  try {
    return await fn();
  } finally {
    spy.mockRestore();
  }
}

describe.each(ADAPTERS)('token guarantees on %s', (adapter) => {
  const server = serverKeys();
  let t: TestApp;
  let n = 0;

  beforeAll(async () => {
    t = await createTestApp({
      adapter,
      database: 'sqlite',
      controllers: TOKEN_CONTROLLERS,
      options: {
        responseSigning: { keys: server.keys },
        tokens: {
          issuer: ISSUER,
          audience: AUDIENCE,
          refreshTokenTtlSeconds: TTL,
          refreshFamilyMaxAgeSeconds: FAMILY,
        },
        httpSignature: { hmacKeys: { 'shared-1': { secret: HMAC_SECRET, username: 'svc' } } },
        clientCertificate: {
          format: 'legacy-subject-dn',
          trustForwardedCertificatesWithoutVerification: true,
          trustedProxies: [TRUSTED],
          subjectDnHeader: 'x-ssl-client-s-dn',
          verifyHeader: 'x-ssl-client-verify',
          mapping: { by: 'subject-cn' },
        },
      },
    });
    await t.addUser('svc', ['reader']);
    await t.addUser('dnuser', ['reader']);
  });
  afterAll(() => t?.close());

  /** A user of its own with `admin, reader` and one key, logged in. */
  async function fresh(keyRoles?: string[]) {
    const name = `user${++n}`;
    const user = await t.addUser(name, ['admin', 'reader']);
    const key = generateKeyPairSync('ed25519');
    await t.registry.register(user, key.publicKey.export({ type: 'spki', format: 'pem' }).toString(), {
      keyId: `${name}-1`,
      ...(keyRoles ? { roles: keyRoles } : {}),
    });
    const login = await challengeLogin(t.server, `${name}-1`, key.privateKey, 'ed25519');
    expect(login.status).toBe(200);
    return { user, keyId: `${name}-1`, ...login.body, refreshToken: login.body.refreshToken! };
  }

  describe('tokens.issuer and tokens.audience: put into tokens and required on them', () => {
    it('issues iss and aud, and accepts the token', async () => {
      const { accessToken } = await fresh();
      expect(decodeJwt(accessToken)).toMatchObject({ iss: ISSUER, aud: AUDIENCE });
      await whoami(t.server, `Bearer ${accessToken}`).expect(200);
    });

    it.each([
      ['without iss', { iss: undefined }, 'ACCESS_TOKEN_INVALID'],
      ['with another iss', { iss: 'https://other.example.test' }, 'ACCESS_TOKEN_INVALID'],
      ['without aud', { aud: undefined }, 'AUDIENCE_INVALID'],
      ['with another aud', { aud: 'https://other-api.example.test' }, 'AUDIENCE_INVALID'],
    ])('refuses a server-signed token %s', async (_what, claims, code) => {
      const { accessToken } = await fresh();
      const token = await resign(accessToken, server.current, {}, claims);
      expect(codeOf(await whoami(t.server, `Bearer ${token}`))).toEqual([401, code]);
    });
  });

  describe('tokens follow the account’s current state', () => {
    it('a role taken from the account: the token loses it at once, and a refresh grants less', async () => {
      const { user, accessToken, refreshToken } = await fresh();
      await request(t.server).get('/probe/admin').set('Authorization', `Bearer ${accessToken}`).expect(200);
      await t.dataSource.getRepository(User).update({ id: user.id }, { roles: ['reader'] });
      t.registry.forgetUser(user.id);
      const admin = await request(t.server).get('/probe/admin').set('Authorization', `Bearer ${accessToken}`);
      expect(codeOf(admin)).toEqual([403, 'ROLE_REQUIRED']);
      expect((await whoami(t.server, `Bearer ${accessToken}`).expect(200)).body.roles).toEqual(['reader']);
      const next = await refresh(t.server, refreshToken).expect(200);
      expect(next.body.roles).toEqual(['reader']);
      expect(decodeJwt(next.body.accessToken).roles).toEqual(['reader']);
    });

    it('the key’s role subset narrowed: the token loses the role at once, and a refresh grants less', async () => {
      const { user, keyId, accessToken, refreshToken } = await fresh();
      await request(t.server).get('/probe/admin').set('Authorization', `Bearer ${accessToken}`).expect(200);
      await t.dataSource.getRepository(PublicKey).update({ keyId }, { roles: ['reader'] });
      t.registry.forgetUser(user.id);
      t.registry.invalidateIds([keyId]);
      const admin = await request(t.server).get('/probe/admin').set('Authorization', `Bearer ${accessToken}`);
      expect(codeOf(admin)).toEqual([403, 'ROLE_REQUIRED']);
      const next = await refresh(t.server, refreshToken).expect(200);
      expect(next.body.roles).toEqual(['reader']);
    });

    it('the account deactivated (PATCH /admin/users): USER_INACTIVE for the access and the refresh token', async () => {
      const { user, accessToken, refreshToken } = await fresh();
      const admin = await fresh();
      await request(t.server)
        .patch(`/admin/users/${user.username}`)
        .set('Authorization', `Bearer ${admin.accessToken}`)
        .send({ active: false })
        .expect(200);
      expect(codeOf(await whoami(t.server, `Bearer ${accessToken}`))).toEqual([401, 'USER_INACTIVE']);
      expect(codeOf(await refresh(t.server, refreshToken))).toEqual([401, 'USER_INACTIVE']);
    });
  });

  describe('refresh lifetimes (refreshTokenTtlSeconds 60, refreshFamilyMaxAgeSeconds 150)', () => {
    it('a refresh token is good until refreshTokenTtlSeconds, then REFRESH_TOKEN_INVALID', async () => {
      const { refreshToken, refreshTokenExpiresIn } = await fresh();
      expect(refreshTokenExpiresIn).toBe(TTL);
      const late = await later((TTL + 1) * 1000, () => refresh(t.server, refreshToken));
      expect(codeOf(late)).toEqual([401, 'REFRESH_TOKEN_INVALID']);
      const inTime = await later((TTL - 5) * 1000, () => refresh(t.server, refreshToken));
      expect(inTime.status).toBe(200);
    });

    it('a family ends refreshFamilyMaxAgeSeconds after the key proof, however often it is refreshed', async () => {
      let { refreshToken } = await fresh();
      for (const at of [50, 100, 140]) {
        const res = await later(at * 1000, () => refresh(t.server, refreshToken));
        expect(res.status).toBe(200);
        // Never past the family's end: 150 s after the proof.
        const expected = Math.min(TTL, FAMILY - at);
        expect(res.body.refreshTokenExpiresIn).toBeGreaterThanOrEqual(expected - 1); // whole seconds, rounded down
        expect(res.body.refreshTokenExpiresIn).toBeLessThanOrEqual(expected);
        refreshToken = res.body.refreshToken;
      }
      // The last token was issued at 140 s and would live to 200 s, but the family ends at 150 s.
      const late = await later((FAMILY + 1) * 1000, () => refresh(t.server, refreshToken));
      expect(codeOf(late)).toEqual([401, 'REFRESH_TOKEN_INVALID']);
    });
  });

  describe('POST /auth/revoke', () => {
    it('ends the family: its refresh token is then TOKEN_REVOKED', async () => {
      const { refreshToken } = await fresh();
      await request(t.server).post('/auth/revoke').send({ refreshToken }).expect(200, { revoked: true });
      expect(codeOf(await refresh(t.server, refreshToken))).toEqual([401, 'TOKEN_REVOKED']);
    });

    it('answers {revoked: true} for an unknown token too (RFC 7009), and revokes nothing', async () => {
      const { refreshToken } = await fresh();
      const unknown = randomBytes(32).toString('base64url');
      await request(t.server)
        .post('/auth/revoke')
        .send({ refreshToken: unknown })
        .expect(200, { revoked: true });
      await refresh(t.server, refreshToken).expect(200);
    });
  });

  describe('no tokens for credentials that are not revocable keys: KEY_PROOF_REQUIRED', () => {
    /** A POST of `{}` to `path`, signed (RFC 9421, hmac-sha256) with the shared secret. */
    const hmacSigned = (path: string) => {
      const { host } = new URL(t.server);
      const body = '{}';
      const digest = `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
      const created = Math.floor(Date.now() / 1000);
      const params = `("@method" "@authority" "@path" "content-digest");created=${created};keyid="shared-1";alg="hmac-sha256"`;
      const base = [
        '"@method": POST',
        `"@authority": ${host}`,
        `"@path": ${path}`,
        `"content-digest": ${digest}`,
        `"@signature-params": ${params}`,
      ].join('\n');
      const signature = createHmac('sha256', HMAC_SECRET).update(base).digest('base64');
      return request(t.server)
        .post(path)
        .set({
          'content-type': 'application/json',
          'content-digest': digest,
          'signature-input': `sig1=${params}`,
          signature: `sig1=:${signature}:`,
        })
        .send(body);
    };

    it('an RFC 9421 signature with a shared HMAC secret (hmacKeys)', async () => {
      // The same kind of signature authenticates a resource route: the refusal is about tokens only.
      expect((await hmacSigned('/probe/echo')).status).toBe(200);
      expect(codeOf(await hmacSigned('/auth/token'))).toEqual([401, 'KEY_PROOF_REQUIRED']);
    });

    it('a certificate known only by its subject DN (legacy-subject-dn)', async () => {
      const dn = ['X-SSL-Client-S-DN', 'CN=dnuser', 'X-SSL-Client-Verify', 'SUCCESS'];
      const probe = await send(`${t.server}/probe/whoami`, { localAddress: TRUSTED, headers: dn });
      expect([probe.status, probe.body.username]).toEqual([200, 'dnuser']);
      const res = await send(`${t.server}/auth/token`, {
        method: 'POST',
        localAddress: TRUSTED,
        headers: [...dn, 'content-type', 'application/json'],
        body: '{}',
      });
      expect([res.status, res.body.code]).toEqual([401, 'KEY_PROOF_REQUIRED']);
    });
  });
});

// A restart on the same database needs a server database; skipped (visibly) without PostgreSQL.
(DATABASES.includes('postgres') ? describe : describe.skip)(
  'the server keyring: a kid no longer listed is refused after a restart',
  () => {
    const old = serverKeys();
    const key = testKey('ed25519', 0);
    let a: TestApp;
    let restarted: INestApplication;
    let restartedUrl: string;

    beforeAll(async () => {
      a = await createTestApp({
        adapter: 'express',
        database: 'postgres',
        controllers: TOKEN_CONTROLLERS,
        options: { responseSigning: { keys: old.keys }, tokens: {} },
      });
      const alice = await a.addUser('alice', ['reader']);
      await a.registry.register(alice, key.publicPem, { keyId: 'alice-ed' });
      // The same database, started again with a keyring that no longer lists the old keys.
      const options: KeypairAuthModuleOptions = {
        responseSigning: {
          keys: [{ keyId: 'srv-2027-01', privateKey: generateKeyPairSync('ed25519').privateKey }],
        },
        tokens: {},
      };
      const url = (a.dataSource.options as { url: string }).url;
      const moduleRef = await Test.createTestingModule({
        imports: [
          TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl(url), migrationsRun: true }),
          KeypairAuthModule.forRoot({ ...options, tokenApi: true }),
        ],
        controllers: [ProbeController],
      }).compile();
      restarted = moduleRef.createNestApplication({ rawBody: true, logger: false });
      await restarted.listen(0, '127.0.0.1');
      restartedUrl = `http://127.0.0.1:${(restarted.getHttpServer().address() as { port: number }).port}`;
    });
    afterAll(async () => {
      await restarted?.close();
      await a?.close();
    });

    it('a token of a removed key gets ACCESS_TOKEN_INVALID; one of the new key is accepted', async () => {
      const before = await challengeLogin(a.server, 'alice-ed', key.privateKey, 'ed25519');
      await whoami(a.server, `Bearer ${before.body.accessToken}`).expect(200);
      const refused = await whoami(restartedUrl, `Bearer ${before.body.accessToken}`);
      expect(codeOf(refused)).toEqual([401, 'ACCESS_TOKEN_INVALID']);
      const after = await challengeLogin(restartedUrl, 'alice-ed', key.privateKey, 'ed25519');
      await whoami(restartedUrl, `Bearer ${after.body.accessToken}`).expect(200);
    });
  },
);
