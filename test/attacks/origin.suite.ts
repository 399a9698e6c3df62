import { createHash, createHmac, randomBytes } from 'node:crypto';
import { PublicKey } from '../../src';
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

/** A POST of `body` to `path`, signed (RFC 9421) with the shared HMAC secret of `svc-hmac` only. */
function hmacPost(env: OriginEnv, path: string, body: string) {
  const digest = `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
  const params = `("@method" "@authority" "@path" "content-digest");created=${Math.floor(Date.now() / 1000)};nonce="${randomBytes(8).toString('hex')}";keyid="svc-hmac";alg="hmac-sha256"`;
  const base = [
    '"@method": POST',
    `"@authority": ${new URL(THIS_ORIGIN).host}`,
    `"@path": ${path}`,
    `"content-digest": ${digest}`,
    `"@signature-params": ${params}`,
  ].join('\n');
  const signature = createHmac('sha256', HMAC_SECRET).update(base).digest('base64');
  return send(`${env.t.server}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'content-digest': digest,
      'signature-input': `sig1=${params}`,
      signature: `sig1=:${signature}:`,
    },
    body,
  });
}

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
  ...(['nobody', 'alice-ed', 'svc-hmac'] as const).map((keyId): AttackCase<OriginEnv> => ({
    name: `rfc9421/oracle-hmac-alg-keyid-${keyId}`,
    attack:
      'learn which keyids are HMAC shared secrets: alg="hmac-sha256" with a made-up signature must get one answer, whatever the keyid (red-team 5 RED2-F1)',
    request: `Signature-Input ...;keyid="${keyId}";alg="hmac-sha256", Signature: 32 random bytes`,
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) => {
      const params = `("@method" "@authority" "@path");created=${Math.floor(Date.now() / 1000)};keyid="${keyId}";alg="hmac-sha256"`;
      return send(`${env.t.server}/probe/whoami`, {
        headers: {
          host: new URL(THIS_ORIGIN).host,
          'signature-input': `sig1=${params}`,
          signature: `sig1=:${randomBytes(32).toString('base64')}:`,
        },
      });
    },
  })),
  ...(['nobody', 'alice-ed', 'svc-hmac'] as const).map((keyId): AttackCase<OriginEnv> => ({
    name: `rfc9421/oracle-hmac-alg-absent-component-keyid-${keyId}`,
    attack:
      'learn which keyids are HMAC shared secrets: alg="hmac-sha256" covering a header the request lacks must answer alike, whatever the keyid (red-team 5 third pass R5B-1)',
    request: `Signature-Input ...("@method" "@authority" "@path" "x-absent");keyid="${keyId}";alg="hmac-sha256", no x-absent`,
    expect: { status: 401, code: 'SIGNATURE_COMPONENT_INVALID' },
    run: (env) => {
      const params = `("@method" "@authority" "@path" "x-absent");created=${Math.floor(Date.now() / 1000)};keyid="${keyId}";alg="hmac-sha256"`;
      return send(`${env.t.server}/probe/whoami`, {
        headers: {
          host: new URL(THIS_ORIGIN).host,
          'signature-input': `sig1=${params}`,
          signature: `sig1=:${randomBytes(32).toString('base64')}:`,
        },
      });
    },
  })),
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
  {
    name: 'hmac/key-takes-hmac-keyid',
    attack:
      'alice registers one of her keys under the keyid of a configured HMAC secret, to make that secret a key proof',
    request: 'POST /keys {publicKey, keyId: "svc-hmac"} signed by alice-ed',
    expect: { status: 400, code: 'KEY_ID_INVALID' },
    run: (env) => {
      const body = JSON.stringify({ publicKey: testKey('ed25519', 45).publicPem, keyId: 'svc-hmac' });
      const headers = signRequest(
        { method: 'POST', url: `${THIS_ORIGIN}/keys`, headers: { 'content-type': 'application/json' }, body },
        { keyId: 'alice-ed', privateKey: env.ed.privateKey },
      ).headers;
      return send(`${env.t.server}/keys`, { method: 'POST', headers, body });
    },
  },
  {
    name: 'hmac/shared-secret-with-colliding-key-row-adds-key',
    attack:
      'a registry row whose keyId equals a configured HMAC keyid (written by SQL or an older version) makes the shared secret count as a key proof',
    request:
      'POST /keys signed with hmac-sha256 under keyid "svc-hmac", with a key row "svc-hmac" of alice in the table',
    expect: { status: 403, code: 'KEY_REGISTRATION_NEEDS_KEY_PROOF' },
    run: async (env) => {
      const repo = env.t.dataSource.getRepository(PublicKey);
      if (!(await repo.findOneBy({ keyId: 'svc-hmac' }))) {
        // The row as SQL (or a version before the check) would leave it: a key of alice renamed to the HMAC keyid.
        const alice = (await env.t.registry.directory.findByUsername('alice'))!;
        await env.t.registry.register(alice, testKey('ed25519', 46).publicPem, { keyId: 'alice-renamed' });
        await repo.update({ keyId: 'alice-renamed' }, { keyId: 'svc-hmac' });
        env.t.registry.invalidateIds(['svc-hmac']);
      }
      return hmacPost(
        env,
        '/keys',
        JSON.stringify({ publicKey: testKey('ed25519', 44).publicPem, keyId: 'minted-by-hmac' }),
      );
    },
  },
];

export const ORIGIN_SUITE = attackSuite<OriginEnv>({
  name: 'origin-bound',
  setup: createOriginEnv,
  teardown: (env) => env.t.close(),
  cases: CASES,
});
