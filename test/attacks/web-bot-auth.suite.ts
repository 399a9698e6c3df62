import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { signatureHeaders } from 'http-message-sig';
import { signerFromJWK } from 'web-bot-auth/crypto';
import { send } from '../support/certificates';
import { testKey } from '../support/keys';
import { AdapterName, createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, startDirectoryServer } from '../web-bot-auth/support/directory-server';
import type { AttackCase } from './attack-harness';
import { attackSuite } from './attack-suite';

/** The service under attack: its configured origin, which every Web Bot Auth signature must name. */
const SERVICE = 'https://wba.example.test';

export interface WebBotAuthEnv {
  readonly t: TestApp;
  /** Two allowlisted agents, each with its own key in its own directory. */
  readonly a: DirectoryServer;
  readonly b: DirectoryServer;
  readonly keyA: KeyObject;
  readonly keyB: KeyObject;
}

async function setup(adapter: AdapterName): Promise<WebBotAuthEnv> {
  const keyA = generateKeyPairSync('ed25519').privateKey;
  const keyB = generateKeyPairSync('ed25519').privateKey;
  const a = await startDirectoryServer({ keys: [keyA], signing: 'cloudflare' });
  const b = await startDirectoryServer({ keys: [keyB], signing: 'draft' });
  const t = await createTestApp({
    adapter,
    database: 'sqlite',
    options: {
      origin: SERVICE,
      webBotAuth: {
        agents: [
          { origin: a.origin, username: 'crawler', roles: ['reader'] },
          { origin: b.origin, username: 'crawler', roles: ['reader'] },
        ],
        directory: { ca: [a.caPem, b.caPem], allowLoopback: true },
      },
    },
  });
  const crawler = await t.addUser('crawler', ['reader']);
  // A registry key of the same account: it must never verify a Web Bot Auth signature.
  await t.registry.register(crawler, testKey('ed25519', 0).publicPem, { keyId: 'crawler-registry' });
  const env = { t, a, b, keyA, keyB };
  // The control: what every case changes one thing of is accepted as it is, so each
  // refusal below is the refusal of that one change.
  const control = await attack(env, {});
  if (control.status !== 200) {
    throw new Error(`web-bot-auth suite: the unaltered request is refused: ${JSON.stringify(control.body)}`);
  }
  return env;
}

interface Craft {
  key?: KeyObject;
  /** The Signature-Agent header as sent. */
  agentHeader?: string;
  components?: string[];
  params?: Record<string, unknown>;
  /** Signed for this URL (default: the service's own /probe/whoami). */
  url?: string;
  /** Changes the headers after signing. */
  tamper?: (headers: Record<string, string>) => void;
  /** Sends the same headers twice and answers the second. */
  twice?: boolean;
}

const now = () => Math.floor(Date.now() / 1000);

/** A Web Bot Auth request signed with http-message-sig (Cloudflare's), sent to the app. */
async function attack(env: WebBotAuthEnv, craft: Craft) {
  const key = craft.key ?? env.keyA;
  const agentHeader = craft.agentHeader ?? `sig1=${JSON.stringify(env.a.origin)}`;
  const url = craft.url ?? `${SERVICE}/probe/whoami`;
  const signer = await signerFromJWK(key.export({ format: 'jwk' }));
  const options: Record<string, unknown> = {
    signer,
    key: 'sig1',
    // The whole field: http-message-sig 0.2.0 signs the whole field value even for ;key=…
    components: craft.components ?? ['@authority', 'signature-agent'],
    keyid: signer.keyid,
    created: new Date(now() * 1000),
    expires: new Date((now() + 60) * 1000),
    nonce: `n-${Math.random().toString(36).slice(2)}`,
    tag: 'web-bot-auth',
    ...craft.params,
  };
  // A parameter set to undefined is one the attack leaves out.
  for (const name of Object.keys(options)) if (options[name] === undefined) delete options[name];
  const signed = await signatureHeaders(
    new Request(url, { headers: { 'Signature-Agent': agentHeader } }),
    options as unknown as Parameters<typeof signatureHeaders>[1],
  );
  const headers: Record<string, string> = { 'signature-agent': agentHeader, ...signed };
  craft.tamper?.(headers);
  const target = `${env.t.server}/probe/whoami`;
  if (craft.twice) await send(target, { headers });
  return send(target, { headers });
}

const refused = (code: string, status = 401) => ({ status, code });

const CASES: AttackCase<WebBotAuthEnv>[] = [
  {
    name: 'web-bot-auth/created-in-future',
    attack: 'a signature dated ten minutes ahead, to outlive the lifetime bound',
    request: 'created = now + 600, expires = created + 60',
    expect: refused('TOKEN_NOT_YET_VALID'),
    run: (env) =>
      attack(env, {
        params: { created: new Date((now() + 600) * 1000), expires: new Date((now() + 660) * 1000) },
      }),
  },
  {
    name: 'web-bot-auth/expires-missing',
    attack: 'a signature without expires, so it would never stop verifying',
    request: 'created only',
    expect: refused('MALFORMED_CREDENTIALS'),
    run: (env) => attack(env, { params: { expires: undefined } }),
  },
  {
    name: 'web-bot-auth/tag-padded',
    attack: 'a tag that looks like web-bot-auth to a lax comparison',
    request: 'tag="web-bot-auth " (trailing space)',
    expect: refused('WEB_BOT_AUTH_TAG_INVALID'),
    run: (env) => attack(env, { params: { tag: 'web-bot-auth ' } }),
  },
  {
    name: 'web-bot-auth/target-uri-for-another-host',
    attack: 'a signature over @target-uri of another service, replayed here',
    request: '("@target-uri" "signature-agent") signed for https://other.example.test',
    expect: refused('KEY_UNKNOWN_OR_SIGNATURE_INVALID'),
    run: (env) =>
      attack(env, {
        url: 'https://other.example.test/probe/whoami',
        components: ['@target-uri', 'signature-agent'],
      }),
  },
  {
    name: 'web-bot-auth/agent-swapped',
    attack: "agent A's signed request relabelled as coming from agent B (also allowlisted)",
    request: 'Signature-Agent: sig1="<B>" after A signed sig1="<A>"',
    expect: refused('KEY_UNKNOWN_OR_SIGNATURE_INVALID'),
    run: (env) =>
      attack(env, {
        tamper: (h) => {
          h['signature-agent'] = `sig1=${JSON.stringify(env.b.origin)}`;
        },
      }),
  },
  {
    name: 'web-bot-auth/agent-http-scheme',
    attack: 'an agent directory over plain http, to be fetched without TLS',
    request: 'Signature-Agent: sig1="http://…"',
    expect: refused('WEB_BOT_AUTH_AGENT_INVALID', 400),
    run: (env) =>
      attack(env, { agentHeader: `sig1=${JSON.stringify(env.a.origin.replace('https:', 'http:'))}` }),
  },
  {
    name: 'web-bot-auth/agent-with-path',
    attack: 'a key set at another path of an allowlisted host (an upload, an open redirect)',
    request: 'Signature-Agent: sig1="https://<A>/uploads/jwks.json"',
    expect: refused('WEB_BOT_AUTH_AGENT_INVALID', 400),
    run: (env) => attack(env, { agentHeader: `sig1=${JSON.stringify(`${env.a.origin}/uploads/jwks.json`)}` }),
  },
  {
    name: 'web-bot-auth/key-of-another-agent',
    attack: 'agent B signs with its own key but names agent A, to be taken for A',
    request: 'keyid = thumbprint of B\'s key, Signature-Agent: sig1="<A>"',
    expect: refused('KEY_UNKNOWN_OR_SIGNATURE_INVALID'),
    run: (env) => attack(env, { key: env.keyB }),
  },
  {
    name: 'web-bot-auth/registry-key-as-agent',
    attack: 'a key registered in the key registry used as a Web Bot Auth key',
    request: 'keyid = the registry key\'s thumbprint, Signature-Agent: sig1="<A>"',
    expect: refused('KEY_UNKNOWN_OR_SIGNATURE_INVALID'),
    run: (env) => attack(env, { key: testKey('ed25519', 0).privateKey }),
  },
  {
    name: 'web-bot-auth/alg-other-than-key',
    attack: "an alg parameter other than the directory key's, to choose the algorithm",
    request: 'alg="rsa-pss-sha512" with an Ed25519 key',
    expect: refused('KEY_UNKNOWN_OR_SIGNATURE_INVALID'),
    run: (env) => attack(env, { params: { alg: 'rsa-pss-sha512' } }),
  },
  {
    name: 'web-bot-auth/empty-nonce',
    attack: 'an empty nonce, to pass for a nonce (requireNonce) while naming none',
    request: 'nonce=""',
    expect: refused('MALFORMED_CREDENTIALS'),
    run: (env) => attack(env, { params: { nonce: '' } }),
  },
  {
    name: 'web-bot-auth/replay-without-nonce',
    attack: 'a signature without a nonce, sent twice',
    request: 'the same headers twice, no nonce parameter',
    expect: refused('REPLAYED'),
    run: (env) => attack(env, { params: { nonce: undefined }, twice: true }),
  },
];

export const WEB_BOT_AUTH_SUITE = attackSuite<WebBotAuthEnv>({
  name: 'web-bot-auth',
  setup,
  teardown: async (env) => {
    await env.t.close();
    await env.a.close();
    await env.b.close();
  },
  cases: CASES,
});
