import { randomBytes } from 'node:crypto';
import { signRequest } from '../../src/client';
import type { SendResult } from '../support/certificates';
import { EchoQueryController, TenantController } from '../support/echo.controller';
import { testKey } from '../support/keys';
import { AdapterName, createTestApp, TestApp } from '../support/test-app';
import { rawRequest } from './attack-harness';
import { attackSuite } from './attack-suite';

/**
 * What the router serves must be what was signed. Found by the red team of issue 14:
 * Node accepts a `#` and an absolute-form target in the request line, our @path/@query
 * read them one way and the routers another (Fastify takes what follows `#` as query;
 * Express reads `http://h:x/p` as the path `/:x/p`). And a key id's existence must not
 * show while a flood of unknown ids runs.
 */
interface TargetEnv {
  readonly t: TestApp;
  readonly port: number;
}

const KEY = testKey('ed25519', 0);
const STRANGER = testKey('ed25519', 6);

function signedFor(env: TargetEnv, path: string, privateKey = KEY.privateKey, keyId = 'alice-ed') {
  return signRequest({ method: 'GET', url: `${env.t.server}${path}` }, { keyId, privateKey }).headers;
}

/** Sends `target` as the request line with headers signed for `signedPath`. */
function sendRaw(env: TargetEnv, target: string, headers: Record<string, string>): Promise<SendResult> {
  const lines = [`GET ${target} HTTP/1.1`, `host: 127.0.0.1:${env.port}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  lines.push('connection: close');
  return rawRequest(env.port, `${lines.join('\r\n')}\r\n\r\n`);
}

/** A forged signature for `keyId` (the stranger's key signs). */
const forged = (env: TargetEnv, keyId: string, path = '/echo/query') =>
  sendRaw(env, path, signedFor(env, path, STRANGER.privateKey, keyId));

export const REQUEST_TARGET_SUITE = attackSuite<TargetEnv>({
  name: 'request target',
  setup: async (adapter: AdapterName) => {
    const t = await createTestApp({
      adapter,
      database: 'sqlite',
      controllers: [EchoQueryController, TenantController],
    });
    const alice = await t.addUser('alice', ['reader']);
    await t.registry.register(alice, KEY.publicPem, { keyId: 'alice-ed' });
    return { t, port: Number(new URL(t.server).port) };
  },
  teardown: (env) => env.t.close(),
  cases: [
    {
      name: 'target/fragment-appended-to-signed-query',
      attack:
        'append "#&amount=1000000" to a captured request signed for ?amount=1 (Fastify served it as query)',
      request: 'GET /echo/query?amount=1#&amount=1000000&admin=1 with the signature for /echo/query?amount=1',
      expect: { status: 400, code: 'REQUEST_TARGET_INVALID' },
      run: (env) =>
        sendRaw(env, '/echo/query?amount=1#&amount=1000000&admin=1', signedFor(env, '/echo/query?amount=1')),
    },
    {
      name: 'target/fragment-appended-without-query',
      attack:
        'append "#&admin=1" to a captured request signed without a query (then @query is not even required)',
      request: 'GET /echo/query#&admin=1 with the signature for /echo/query',
      expect: { status: 400, code: 'REQUEST_TARGET_INVALID' },
      run: (env) => sendRaw(env, '/echo/query#&admin=1', signedFor(env, '/echo/query')),
    },
    {
      name: 'target/absolute-form-port-smuggles-path',
      attack:
        'resend a request signed for /echo/query as GET http://host:evil/echo/query (Express routed /:evil/echo/query)',
      request: 'GET http://127.0.0.1:evil/echo/query HTTP/1.1 with the signature for /echo/query',
      expect: { status: 400, code: 'REQUEST_TARGET_INVALID' },
      // Fastify does not route this target at all (404 before any guard).
      adapters: ['express'],
      run: (env) => sendRaw(env, 'http://127.0.0.1:evil/echo/query', signedFor(env, '/echo/query')),
    },
    {
      name: 'target/absolute-form',
      attack: 'resend a signed request with an absolute-form request line, which routers read their own way',
      request: 'GET http://127.0.0.1:<port>/echo/query HTTP/1.1 with the signature for /echo/query',
      expect: { status: 400, code: 'REQUEST_TARGET_INVALID' },
      run: (env) => sendRaw(env, `${env.t.server}/echo/query`, signedFor(env, '/echo/query')),
    },
    {
      name: 'keyid-oracle/during-unknown-id-flood',
      attack:
        'flood 1,500 random key ids, then send forged signatures for a known and an unknown key id: they must answer alike',
      request: '1,500 forged GETs with random keyids, then one for alice-ed and one for a random id',
      expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
      run: async (env) => {
        await forged(env, 'alice-ed'); // the key is cached from here on
        for (let round = 0; round < 30; round++) {
          await Promise.all(
            Array.from({ length: 50 }, () => forged(env, `rnd-${randomBytes(8).toString('hex')}`)),
          );
        }
        const known = await forged(env, 'alice-ed');
        const unknown = await forged(env, `rnd-${randomBytes(8).toString('hex')}`);
        if (known.status !== unknown.status || known.body.code !== unknown.body.code) {
          return { ...unknown, body: { code: `ORACLE (known ${known.status}, unknown ${unknown.status})` } };
        }
        return unknown;
      },
    },
  ],
});
