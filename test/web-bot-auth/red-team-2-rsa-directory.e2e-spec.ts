import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptionsFromUrl, KeypairAuthModule } from '../../src';
import { signWebBotAuthRequest } from '../../src/client';
import { DIRECTORY_PATH } from '../../src/web-bot-auth/web-bot-auth-options';
import { createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, startDirectoryServer } from '../web-bot-auth/support/directory-server';

/**
 * Red team 2 (issue 18, G95): with an RSA key in responseSigning.keys under the default
 * algorithm (rsa-v1_5-sha256) the served directory published RS256 while signWebBotAuthRequest
 * signs RSA keys rsa-pss-sha512, the one RSA algorithm of Web Bot Auth: no verifier accepted this
 * server as an agent. Now such a keyring refuses to serve the directory; with rsa-pss-sha512 (and
 * Ed25519) a request this server signs verifies against the directory it serves.
 */
const SERVICE = 'https://wba.example.test';

describe.each(['ed25519', 'rsa-pss-sha512'] as const)(
  'Web Bot Auth, red team 2: this server as an agent, %s keyring key',
  (type) => {
    const privateKey =
      type === 'rsa-pss-sha512'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
        : generateKeyPairSync('ed25519').privateKey;
    const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    let front: DirectoryServer;
    let dirApp: INestApplication;
    let dirUrl: string;
    let verifier: TestApp;

    beforeAll(async () => {
      front = await startDirectoryServer({ signing: 'none' });
      const moduleRef = await Test.createTestingModule({
        imports: [
          TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true }),
          KeypairAuthModule.forRoot({
            webBotAuthDirectory: true,
            origin: front.origin,
            responseSigning: {
              keys: [
                {
                  keyId: 'server-1',
                  privateKey: privatePem,
                  ...(type === 'ed25519' ? {} : { algorithm: type }),
                },
              ],
            },
          } as never),
        ],
      }).compile();
      dirApp = moduleRef.createNestApplication();
      await dirApp.listen(0, '127.0.0.1');
      dirUrl = `http://127.0.0.1:${(dirApp.getHttpServer().address() as AddressInfo).port}${DIRECTORY_PATH}`;
      // The HTTPS front serves the module's directory bytes and headers unchanged.
      front.setHandler((_req, res) => {
        void fetch(dirUrl).then(async (r) => {
          const body = Buffer.from(await r.arrayBuffer());
          const headers: Record<string, string> = {};
          for (const n of [
            'content-type',
            'cache-control',
            'content-digest',
            'signature-input',
            'signature',
          ]) {
            const v = r.headers.get(n);
            if (v !== null) headers[n] = v;
          }
          res.writeHead(r.status, headers).end(body);
        });
      });
      verifier = await createTestApp({
        adapter: 'express',
        database: 'sqlite',
        options: {
          origin: SERVICE,
          webBotAuth: {
            agents: [{ origin: front.origin, username: 'peer', roles: ['reader'] }],
            directory: { ca: front.caPem, allowLoopback: true },
          },
        },
      });
      await verifier.addUser('peer', ['reader']);
    });
    afterAll(async () => {
      await verifier.close();
      await dirApp.close();
      await front.close();
    });

    it('a request this server signs as an agent verifies against the directory it serves', async () => {
      const served = (await (await fetch(dirUrl)).json()) as { keys: { alg: string }[] };
      const { headers } = signWebBotAuthRequest(
        { method: 'GET', url: `${SERVICE}/probe/whoami` },
        { privateKey: privatePem, agent: front.origin },
      );
      const res = await fetch(`${verifier.server}/probe/whoami`, { headers });
      const body = (await res.json()) as Record<string, unknown>;
      expect(served.keys[0].alg).toBe(type === 'ed25519' ? 'EdDSA' : 'PS512');
      expect({ status: res.status, who: body.code ?? body.username }).toEqual({ status: 200, who: 'peer' });
    });

    it("Cloudflare's web-bot-auth verifies the directory signature (G95)", async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { verifierFromJWK } = require('web-bot-auth/crypto');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { verify: httpsigVerify } = require('http-message-sig');
      const r = await fetch(dirUrl);
      const headers: Record<string, string> = {};
      r.headers.forEach((v, n) => (headers[n] = v));
      const jwk = ((await r.json()) as { keys: Record<string, unknown>[] }).keys[0];
      let outcome: string;
      try {
        const verifyWithJwk = await verifierFromJWK(jwk);
        await httpsigVerify(
          {
            request: { method: 'GET', url: `${front.origin}${DIRECTORY_PATH}`, headers: {} },
            response: { status: 200, headers },
          },
          verifyWithJwk,
        );
        outcome = 'verified';
      } catch (error) {
        outcome = `refused: ${(error as Error).message}`;
      }
      expect(outcome).toBe('verified');
    });
  },
);

describe('Web Bot Auth, red team 2: an RSA keyring key for the directory', () => {
  it.each(['rsa-v1_5-sha256', undefined] as const)(
    'refuses to serve the directory with an RSA key signing %s: only rsa-pss-sha512 is Web Bot Auth',
    async (algorithm) => {
      const privatePem = generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ format: 'pem', type: 'pkcs8' })
        .toString();
      await expect(
        Test.createTestingModule({
          imports: [
            TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true }),
            KeypairAuthModule.forRoot({
              webBotAuthDirectory: true,
              origin: SERVICE,
              responseSigning: {
                keys: [{ keyId: 'server-1', privateKey: privatePem, ...(algorithm ? { algorithm } : {}) }],
              },
            } as never),
          ],
        }).compile(),
      ).rejects.toThrow(/server-1.*rsa-pss-sha512/s);
    },
  );
});
