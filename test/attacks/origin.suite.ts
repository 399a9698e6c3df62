import { signRequest, SignRequestOptions } from '../../src/client';
import { send } from '../support/certificates';
import { testKey, TestKeyPair } from '../support/keys';
import { AdapterName, createTestApp, TestApp } from '../support/test-app';
import { AttackCase, rawRequest } from './attack-harness';
import { attackSuite } from './attack-suite';

/** This service, and another one that trusts the same keys. */
export const THIS_ORIGIN = 'https://b.example.test';
export const OTHER_SERVICE = 'https://a.example.test';
export const HMAC_SECRET = Buffer.alloc(32, 7);

export interface OriginEnv {
  readonly t: TestApp;
  readonly port: number;
  readonly ed: TestKeyPair;
  readonly rsa: TestKeyPair;
}

/** The app under attack: `origin` set to THIS_ORIGIN, alice's keys, one HMAC shared secret. */
export async function createOriginEnv(adapter: AdapterName): Promise<OriginEnv> {
  const t = await createTestApp({
    adapter,
    database: 'sqlite',
    options: {
      origin: THIS_ORIGIN,
      httpSignature: { hmacKeys: { 'svc-hmac': { secret: HMAC_SECRET, username: 'alice' } } },
    },
  });
  const ed = testKey('ed25519', 0);
  const rsa = testKey('rsa', 0);
  const alice = await t.addUser('alice', ['reader']);
  await t.registry.register(alice, ed.publicPem, { keyId: 'alice-ed' });
  await t.registry.register(alice, rsa.publicPem, { keyId: 'alice-rsa' });
  return { t, port: Number(new URL(t.server).port), ed, rsa };
}

/** Headers of a GET of `path` that alice signed for the other service, as captured there. */
function capturedFromOtherService(
  env: OriginEnv,
  path: string,
  options: Partial<SignRequestOptions>,
  headers: Record<string, string> = {},
): Record<string, string> {
  const key = options.format === 'cavage' ? env.rsa : env.ed;
  return signRequest(
    { method: 'GET', url: `${OTHER_SERVICE}${path}`, headers },
    { keyId: options.format === 'cavage' ? 'alice-rsa' : 'alice-ed', privateKey: key.privateKey, ...options },
  ).headers;
}

/** Sends the captured headers to this service, with Host set to the other service. */
const replayHere = (env: OriginEnv, path: string, headers: Record<string, string>) =>
  send(`${env.t.server}${path}`, { headers: { ...headers, host: new URL(OTHER_SERVICE).host } });

const CASES: AttackCase<OriginEnv>[] = [
  {
    name: 'origin/rfc9421-target-uri-absolute-form',
    attack: 'a request signed over @target-uri for another service, sent with an absolute-form request line',
    request: `GET ${OTHER_SERVICE}/probe/whoami HTTP/1.1, Host: a.example.test, covers ("@method" "@target-uri")`,
    expect: { status: 400, code: 'REQUEST_TARGET_INVALID' },
    run: (env) => {
      const headers = capturedFromOtherService(env, '/probe/whoami', {
        components: ['@method', '@target-uri'],
      });
      const head = Object.entries({ ...headers, host: new URL(OTHER_SERVICE).host, connection: 'close' })
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
      return rawRequest(env.port, `GET ${OTHER_SERVICE}/probe/whoami HTTP/1.1\r\n${head}\r\n`);
    },
  },
  {
    name: 'origin/rfc9421-host-field',
    attack: 'a request signed over the host field (not @authority) for another service',
    request: 'Host: a.example.test, covers ("@method" "host" "@path")',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) =>
      replayHere(
        env,
        '/probe/whoami',
        capturedFromOtherService(
          env,
          '/probe/whoami',
          { components: ['@method', 'host', '@path'] },
          { host: new URL(OTHER_SERVICE).host },
        ),
      ),
  },
  {
    name: 'origin/cavage-host',
    attack: 'a Cavage request signed for another service (its host line), sent with its Host',
    request: 'Host: a.example.test, Signature: headers="(request-target) host date"',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) =>
      replayHere(env, '/probe/whoami', capturedFromOtherService(env, '/probe/whoami', { format: 'cavage' })),
  },
  {
    name: 'rfc9421/oracle-hmac-keyid-other-alg',
    attack:
      'learn whether a keyid is an HMAC shared secret: alg="ed25519" under it must answer as for any unknown keyid',
    request: 'Signature-Input ...;keyid="svc-hmac";alg="ed25519" (signed with an Ed25519 key)',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) => {
      const headers = signRequest(
        { method: 'GET', url: `${THIS_ORIGIN}/probe/whoami` },
        { keyId: 'svc-hmac', privateKey: env.ed.privateKey, includeAlg: true },
      ).headers;
      return send(`${env.t.server}/probe/whoami`, { headers });
    },
  },
];

export const ORIGIN_SUITE = attackSuite<OriginEnv>({
  name: 'origin-bound',
  setup: createOriginEnv,
  teardown: (env) => env.t.close(),
  cases: CASES,
});
