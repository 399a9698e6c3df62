import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptionsFromUrl, KeypairAuthModule } from '../../src';
import { signWebBotAuthRequest } from '../../src/client';
import { DIRECTORY_PATH } from '../../src/web-bot-auth/web-bot-auth-options';

/**
 * Red team 3 (G95): "an RSA keyring key must be rsa-pss-sha512 ... or the module refuses to
 * start; Cloudflare's web-bot-auth library verifies both". The fix of red team 2 covers RSA only:
 * an ECDSA keyring key (ecdsa-p256-sha256, a default algorithm of the keyring) starts the module,
 * the directory publishes an EC key, and Cloudflare's web-bot-auth (Ed25519 and RSA-PSS-SHA512
 * only) cannot verify the directory nor any request signWebBotAuthRequest signs with that key.
 */
const ORIGIN = 'https://agent.example.test';

describe('Web Bot Auth, red team 3: an ECDSA keyring key behind webBotAuthDirectory', () => {
  const privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  let app: INestApplication | undefined;
  let url: string;

  afterAll(async () => {
    await app?.close();
  });

  it('the module refuses to start, or the directory it serves verifies with Cloudflare web-bot-auth', async () => {
    let started: boolean;
    let refusal: unknown;
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [
          TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true }),
          KeypairAuthModule.forRoot({
            webBotAuthDirectory: true,
            origin: ORIGIN,
            responseSigning: { keys: [{ keyId: 'server-1', privateKey: privatePem }] },
          } as never),
        ],
      }).compile();
      app = moduleRef.createNestApplication();
      await app.listen(0, '127.0.0.1');
      url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}${DIRECTORY_PATH}`;
      started = true;
    } catch (error) {
      started = false;
      refusal = error;
    }
    if (!started) {
      // What G95 promises for a key Web Bot Auth cannot use: a refusal naming the key and the fix, not any failure.
      expect(String(refusal)).toMatch(/server-1.*ecdsa-p256-sha256.*Ed25519/s);
      return;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { verifierFromJWK } = require('web-bot-auth/crypto');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { verify: httpsigVerify } = require('http-message-sig');
    const r = await fetch(url);
    const headers: Record<string, string> = {};
    r.headers.forEach((v, n) => (headers[n] = v));
    const jwk = ((await r.json()) as { keys: Record<string, unknown>[] }).keys[0];
    // The SDK signs a request with this key too (so the operator believes it works).
    const signed = signWebBotAuthRequest(
      { method: 'GET', url: 'https://site.example/' },
      { privateKey: privatePem, agent: ORIGIN },
    );
    let outcome: string;
    try {
      const verifyWithJwk = await verifierFromJWK(jwk);
      await httpsigVerify(
        {
          request: { method: 'GET', url: `${ORIGIN}${DIRECTORY_PATH}`, headers: {} },
          response: { status: 200, headers },
        },
        verifyWithJwk,
      );
      outcome = 'verified';
    } catch (error) {
      outcome = `refused: ${(error as Error).message} (jwk ${String(jwk.kty)} ${String(jwk.crv)} ${String(jwk.alg)}; SDK signed ${signed.headers['signature-input'] ?? signed.headers['Signature-Input']})`;
    }
    expect(outcome).toBe('verified');
  });
});
