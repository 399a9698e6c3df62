import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { dataSourceOptionsFromUrl, KeypairAuthModule, KeypairAuthModuleOptions } from '../../src';
import { testKey } from '../support/keys';
import { ProbeController } from '../support/probe.controller';
import { createTestApp, TestApp } from '../support/test-app';
import { DATABASES } from '../support/test-database';
import { challengeLogin, serverKeys, TOKEN_CONTROLLERS, whoami } from './token-test-support';

// Two app instances on one database need a server database; skipped (visibly) when PostgreSQL is not
// reachable, and CI (REQUIRE_SERVICES=1) fails instead.
const describeShared = DATABASES.includes('postgres') ? describe : describe.skip;

/**
 * The documented bound: an admin's revoke-tokens is seen at once by the instance
 * that ran it, and by other instances when their cached generation expires
 * (keyCache.ttlSeconds, here 1 s). Two apps on one PostgreSQL database.
 */
describeShared('revoking a user’s tokens, seen by a second instance within keyCache.ttlSeconds', () => {
  const server = serverKeys();
  const key = testKey('ed25519', 0);
  const options: KeypairAuthModuleOptions = {
    responseSigning: { keys: server.keys },
    tokens: {},
    keyCache: { ttlSeconds: 1 },
  };
  let a: TestApp;
  let b: INestApplication;
  let bUrl: string;

  beforeAll(async () => {
    a = await createTestApp({
      adapter: 'express',
      database: 'postgres',
      options,
      controllers: TOKEN_CONTROLLERS,
    });
    const url = (a.dataSource.options as { url: string }).url;
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl(url), migrationsRun: true }),
        // The structural option mounts /auth/* and /admin/users/:username/revoke-tokens here.
        KeypairAuthModule.forRoot({ ...options, adminApi: true, tokenApi: true }),
      ],
      controllers: [ProbeController],
    }).compile();
    b = moduleRef.createNestApplication({ rawBody: true, logger: false });
    await b.listen(0, '127.0.0.1');
    bUrl = `http://127.0.0.1:${(b.getHttpServer().address() as { port: number }).port}`;
    const alice = await a.addUser('alice', ['admin', 'reader']);
    await a.registry.register(alice, key.publicPem, { keyId: 'alice-ed' });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('A refuses at once; B accepts until its cached generation expires, then refuses', async () => {
    const { body } = await challengeLogin(a.server, 'alice-ed', key.privateKey, 'ed25519');
    const bearer = `Bearer ${body.accessToken}`;
    await whoami(bUrl, bearer).expect(200); // B caches alice's generation now
    const cachedAt = Date.now();
    const admin = await challengeLogin(bUrl, 'alice-ed', key.privateKey, 'ed25519', { roles: ['admin'] });
    // Revoked on A (whose admin route comes from TOKEN_CONTROLLERS) with a token B issued (tokenApi).
    await request(a.server)
      .post('/admin/users/alice/revoke-tokens')
      .set('Authorization', `Bearer ${admin.body.accessToken}`)
      .expect(200);

    const onA = await whoami(a.server, bearer);
    expect([onA.status, onA.body.code]).toEqual([401, 'TOKEN_REVOKED']);
    const onB = await whoami(bUrl, bearer);
    if (Date.now() - cachedAt < 800) expect(onB.status).toBe(200); // stale within the bound, as documented

    await new Promise((r) => setTimeout(r, Math.max(0, cachedAt + 1100 - Date.now())));
    const later = await whoami(bUrl, bearer);
    expect([later.status, later.body.code]).toEqual([401, 'TOKEN_REVOKED']);
    // Refresh tokens are refused at once everywhere: refreshing reads the database.
    const refreshed = await request(bUrl).post('/auth/refresh').send({ refreshToken: body.refreshToken });
    expect([refreshed.status, refreshed.body.code]).toEqual([401, 'TOKEN_REVOKED']);
  });
});
