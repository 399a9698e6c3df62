import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { signRfc9421 } from '../../src/http-signatures';
import { requestView } from '../../src/client/sign-request';
import { jwkThumbprint } from '../../src/keys/jwk-thumbprint';
import { publicKeyFromPrivate } from '../../src/keys/formats/private-key-loader';
import { signWithAlgorithm } from '../../src/keys/key-algorithm';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, startDirectoryServer } from './support/directory-server';

/**
 * Edge cases of the Web Bot Auth request profile (G85, G86), over real HTTP on the real module:
 * component parameters on the Signature-Agent coverage and on derived components, several
 * signatures or labels, absurd timestamps, a chunked body, a 60 KB header, and an intermediary
 * that appends a Signature-Agent line. Signed with our RFC 9421 signer for the configured origin
 * (it can cover a member with ;key and add ;sf or ;bs), sent with raw header lines so repeated
 * fields reach the server as separate lines. Every refusal starts with an accepted control, so a
 * refusal cannot come from a broken setup. Promoted from red team 2's probe (issue 18), where
 * all of these held; cases already in web-bot-auth.e2e-spec.ts and web-bot-auth-parsing.e2e-spec.ts
 * are not repeated here.
 */
/** The service's configured origin: what every agent signature here names (webBotAuth requires it). */
const SERVICE = 'https://wba.example.test';
const PATH = '/probe/whoami';

interface Component {
  name: string;
  params?: Record<string, string | boolean>;
}
const BASE: Component[] = [{ name: '@method' }, { name: '@authority' }, { name: '@path' }];
const MEMBER: Component = { name: 'signature-agent', params: { key: 'sig1' } };
const WHOLE: Component = { name: 'signature-agent' };
interface Target {
  method: string;
  path: string;
}
const GET: Target = { method: 'GET', path: PATH };
const POST_ECHO: Target = { method: 'POST', path: '/probe/echo' };

describe.each(ADAPTERS)('Web Bot Auth edge cases on %s', (adapter) => {
  let t: TestApp;
  let agent: DirectoryServer;
  const key = generateKeyPairSync('ed25519').privateKey;
  const keyid = jwkThumbprint(publicKeyFromPrivate(key));

  beforeAll(async () => {
    agent = await startDirectoryServer({ keys: [key], signing: 'cloudflare' });
    t = await createTestApp({
      adapter,
      database: 'sqlite',
      options: {
        origin: SERVICE,
        webBotAuth: {
          agents: [{ origin: agent.origin, username: 'crawler', roles: ['reader'] }],
          directory: { ca: agent.caPem, allowLoopback: true },
        },
      },
    });
    await t.addUser('crawler', ['reader']);
  });
  afterAll(async () => {
    await t.close();
    await agent.close();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const memberField = () => `sig1="${agent.origin}"`;

  /** Signature-Input and Signature for a request on SERVICE (a GET of PATH unless told), with a fresh nonce (never a replay). */
  function sign(
    headers: Record<string, string>,
    components: Component[],
    params: Record<string, unknown> = {},
    label = 'sig1',
    target: Target = GET,
  ) {
    const created = now();
    const signed = signRfc9421(requestView(target.method, new URL(`${SERVICE}${target.path}`), headers), {
      label,
      components,
      params: {
        created,
        keyid,
        alg: 'ed25519',
        expires: created + 60,
        nonce: randomBytes(16).toString('hex'),
        tag: 'web-bot-auth',
        ...params,
      },
      sign: (data) => signWithAlgorithm('ed25519', key, data),
    });
    return { input: signed.signatureInput, signature: signed.signature };
  }

  /** The header lines of a request signed as the agent: Signature-Agent, Signature-Input, Signature. */
  function signedLines(
    signatureAgent: string,
    components: Component[],
    params: Record<string, unknown> = {},
    target: Target = GET,
  ): [string, string][] {
    const s = sign({ 'signature-agent': signatureAgent }, components, params, 'sig1', target);
    return [
      ['signature-agent', signatureAgent],
      ['signature-input', s.input],
      ['signature', s.signature],
    ];
  }

  /** Sends the request to the app with exactly these header lines (repeats kept as separate lines). */
  function send(lines: [string, string][], body?: string, target: Target = GET) {
    const u = new URL(t.server);
    return new Promise<{ status: number; who: string | undefined }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: u.hostname,
          port: u.port,
          path: target.path,
          method: target.method,
          headers: [['host', u.host], ...lines].flat(),
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            const parsed = JSON.parse(text) as { code?: string; username?: string };
            resolve({ status: res.statusCode ?? 0, who: parsed.code ?? parsed.username });
          });
        },
      );
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  /** The control: the agent named as a dictionary member, that member covered, is accepted. */
  async function expectControlAccepted() {
    expect(await send(signedLines(memberField(), [...BASE, MEMBER]))).toEqual({
      status: 200,
      who: 'crawler',
    });
  }

  it('accepts ;sf coverage of a one-member Signature-Agent, as a dictionary or as a string', async () => {
    const sf: Component = { name: 'signature-agent', params: { sf: true } };
    for (const field of [memberField(), JSON.stringify(agent.origin)]) {
      const res = await send(signedLines(field, [...BASE, sf]));
      expect([field, res]).toEqual([field, { status: 200, who: 'crawler' }]);
    }
  });

  it('refuses ;sf coverage of a two-member Signature-Agent: WEB_BOT_AUTH_AGENT_INVALID', async () => {
    await expectControlAccepted();
    // The whole field re-serialized is still the whole field: the unsigned label would choose.
    const field = `${memberField()}, sig2="https://other.example"`;
    const res = await send(signedLines(field, [...BASE, { name: 'signature-agent', params: { sf: true } }]));
    expect(res).toEqual({ status: 400, who: 'WEB_BOT_AUTH_AGENT_INVALID' });
  });

  it('refuses ;bs coverage of Signature-Agent: WEB_BOT_AUTH_AGENT_NOT_COVERED', async () => {
    await expectControlAccepted();
    const res = await send(
      signedLines(memberField(), [...BASE, { name: 'signature-agent', params: { bs: true } }]),
    );
    expect(res).toEqual({ status: 401, who: 'WEB_BOT_AUTH_AGENT_NOT_COVERED' });
  });

  it('refuses coverage of a Signature-Agent member the field does not hold: WEB_BOT_AUTH_AGENT_INVALID', async () => {
    await expectControlAccepted();
    // Signed over a field that holds zz; sent with a field that does not.
    const [, inputLine, signatureLine] = signedLines(`zz="${agent.origin}"`, [
      ...BASE,
      { name: 'signature-agent', params: { key: 'zz' } },
    ]);
    const res = await send([['signature-agent', memberField()], inputLine, signatureLine]);
    expect(res).toEqual({ status: 400, who: 'WEB_BOT_AUTH_AGENT_INVALID' });
  });

  it('refuses ;req, ;sf or ;bs on @authority and ;req on a request field: SIGNATURE_COMPONENT_INVALID, or SIGNATURE_COVERAGE_INSUFFICIENT for "@authority";req', async () => {
    await expectControlAccepted();
    // Hand-written Signature-Input: these parameters make no sense on a request, so the
    // component check must refuse them before any signature is tried.
    const n = now();
    // "@authority";req names the authority of a related request: it does not cover this one's.
    for (const [components, code] of [
      ['"@authority";req "signature-agent";key="sig1"', 'SIGNATURE_COVERAGE_INSUFFICIENT'],
      ['"@authority";sf "signature-agent";key="sig1"', 'SIGNATURE_COMPONENT_INVALID'],
      ['"@authority";bs "signature-agent";key="sig1"', 'SIGNATURE_COMPONENT_INVALID'],
      ['"@authority" "content-digest";req "signature-agent";key="sig1"', 'SIGNATURE_COMPONENT_INVALID'],
    ]) {
      const res = await send([
        ['signature-agent', memberField()],
        [
          'signature-input',
          `sig1=(${components});created=${n};expires=${n + 30};keyid="${keyid}";tag="web-bot-auth"`,
        ],
        ['signature', 'sig1=:AAAA:'],
      ]);
      expect([components, res]).toEqual([components, { status: 401, who: code }]);
    }
  });

  it('accepts @target-uri in place of @authority', async () => {
    const res = await send(signedLines(memberField(), [{ name: '@target-uri' }, MEMBER]));
    expect(res).toEqual({ status: 200, who: 'crawler' });
  });

  it('refuses two signatures tagged web-bot-auth, though each alone is accepted: WEB_BOT_AUTH_TAG_INVALID', async () => {
    await expectControlAccepted();
    const headers = { 'signature-agent': memberField() };
    const s1 = sign(headers, [...BASE, MEMBER], {}, 'sig1');
    const s2 = sign(headers, [...BASE, MEMBER], {}, 'sig2');
    const res = await send([
      ['signature-agent', memberField()],
      ['signature-input', `${s1.input}, ${s2.input}`],
      ['signature', `${s1.signature}, ${s2.signature}`],
    ]);
    expect(res).toEqual({ status: 401, who: 'WEB_BOT_AUTH_TAG_INVALID' });
    // Each alone is accepted (the pair was refused before either nonce was spent).
    for (const one of [s1, s2]) {
      const alone = await send([
        ['signature-agent', memberField()],
        ['signature-input', one.input],
        ['signature', one.signature],
      ]);
      expect(alone).toEqual({ status: 200, who: 'crawler' });
    }
  });

  it('refuses a Signature whose label is not the Signature-Input label: MALFORMED_CREDENTIALS', async () => {
    await expectControlAccepted();
    const headers = { 'signature-agent': memberField() };
    const s1 = sign(headers, [...BASE, MEMBER], {}, 'sig1');
    const s2 = sign(headers, [...BASE, MEMBER], {}, 'sig2');
    const res = await send([
      ['signature-agent', memberField()],
      ['signature-input', s1.input],
      ['signature', s2.signature],
    ]);
    expect(res).toEqual({ status: 401, who: 'MALFORMED_CREDENTIALS' });
  });

  it('refuses a Signature-Input without a Signature: MALFORMED_CREDENTIALS', async () => {
    await expectControlAccepted();
    const [agentLine, inputLine] = signedLines(memberField(), [...BASE, MEMBER]);
    expect(await send([agentLine, inputLine])).toEqual({ status: 401, who: 'MALFORMED_CREDENTIALS' });
  });

  it('refuses a Signature-Input label sent on two lines: MALFORMED_CREDENTIALS', async () => {
    await expectControlAccepted();
    const [agentLine, inputLine, signatureLine] = signedLines(memberField(), [...BASE, MEMBER]);
    expect(await send([agentLine, inputLine, inputLine, signatureLine])).toEqual({
      status: 401,
      who: 'MALFORMED_CREDENTIALS',
    });
  });

  it('refuses a Signature-Agent without a signature: WEB_BOT_AUTH_TAG_INVALID', async () => {
    await expectControlAccepted();
    expect(await send([['signature-agent', memberField()]])).toEqual({
      status: 401,
      who: 'WEB_BOT_AUTH_TAG_INVALID',
    });
  });

  it('refuses created at 0 or far in the past, with expires far ahead: TOKEN_LIFETIME_TOO_LONG', async () => {
    await expectControlAccepted();
    for (const params of [
      { created: 0, expires: 999_999_999_999_999 },
      { created: -999_999_999_999_999, expires: now() + 30 },
    ]) {
      const res = await send(signedLines(memberField(), [...BASE, MEMBER], params));
      expect([params, res]).toEqual([params, { status: 401, who: 'TOKEN_LIFETIME_TOO_LONG' }]);
    }
  });

  it('refuses a chunked body sent without a content-digest: DIGEST_REQUIRED', async () => {
    await expectControlAccepted();
    // No Content-Length: the body is only announced by Transfer-Encoding.
    const lines: [string, string][] = [
      ['content-type', 'application/json'],
      ['transfer-encoding', 'chunked'],
      ...signedLines(memberField(), [...BASE, MEMBER], {}, POST_ECHO),
    ];
    expect(await send(lines, '{"a":1}', POST_ECHO)).toEqual({ status: 401, who: 'DIGEST_REQUIRED' });
  });

  it('refuses a signed 60 KB Signature-Agent that is no URL: WEB_BOT_AUTH_AGENT_INVALID', async () => {
    await expectControlAccepted();
    const res = await send(signedLines(`sig1="${'a'.repeat(60_000)}"`, [...BASE, MEMBER]));
    expect(res).toEqual({ status: 400, who: 'WEB_BOT_AUTH_AGENT_INVALID' });
  });

  it('refuses an empty, parameterized, userinfo or IPv6 Signature-Agent: WEB_BOT_AUTH_AGENT_INVALID', async () => {
    await expectControlAccepted();
    const o = agent.origin;
    for (const field of [
      '',
      `"${o}";x=1`, // the legacy string with a parameter
      `sig1="${o.replace('https://', 'https://u@')}"`, // userinfo
      'sig1="https://[::ffff:127.0.0.1]:1"', // an address URL parsing would rewrite
    ]) {
      // The whole field covered: a signature over exactly what is sent, whatever it holds.
      const res = await send(signedLines(field, [...BASE, WHOLE]));
      expect([field, res]).toEqual([field, { status: 400, who: 'WEB_BOT_AUTH_AGENT_INVALID' }]);
    }
  });

  it('refuses a non-ASCII Signature-Agent: WEB_BOT_AUTH_AGENT_INVALID', async () => {
    await expectControlAccepted();
    // Our signer will not sign a non-ASCII field without ;bs: signed over the ASCII value, the
    // field must be refused as it is parsed, before any signature is tried.
    const [, inputLine, signatureLine] = signedLines(memberField(), [...BASE, MEMBER]);
    const res = await send([['signature-agent', `sig1="${agent.origin}\u00e9"`], inputLine, signatureLine]);
    expect(res).toEqual({ status: 400, who: 'WEB_BOT_AUTH_AGENT_INVALID' });
  });

  it('a host with a trailing dot is another origin, not on the allowlist: WEB_BOT_AUTH_AGENT_NOT_ALLOWED', async () => {
    await expectControlAccepted();
    const field = `sig1="${agent.origin.replace('localhost', 'localhost.')}"`;
    expect(await send(signedLines(field, [...BASE, MEMBER]))).toEqual({
      status: 401,
      who: 'WEB_BOT_AUTH_AGENT_NOT_ALLOWED',
    });
  });

  it("an intermediary's appended Signature-Agent line with the signed key names its agent: WEB_BOT_AUTH_AGENT_NOT_ALLOWED", async () => {
    await expectControlAccepted();
    const [agentLine, inputLine, signatureLine] = signedLines(memberField(), [...BASE, MEMBER]);
    // The two lines are one field; its repeated key sig1 keeps the appended (last) value.
    const res = await send([
      agentLine,
      ['signature-agent', 'sig1="https://evil.example"'],
      inputLine,
      signatureLine,
    ]);
    expect(res).toEqual({ status: 401, who: 'WEB_BOT_AUTH_AGENT_NOT_ALLOWED' });
  });

  it("an intermediary's appended Signature-Agent member under another key leaves a member-covered signature its agent's", async () => {
    const [agentLine, inputLine, signatureLine] = signedLines(memberField(), [...BASE, MEMBER]);
    const res = await send([
      agentLine,
      ['signature-agent', 'sig2="https://other.example"'],
      inputLine,
      signatureLine,
    ]);
    expect(res).toEqual({ status: 200, who: 'crawler' });
  });

  it('refuses whole-field coverage once an intermediary appends a Signature-Agent line: WEB_BOT_AUTH_AGENT_INVALID', async () => {
    await expectControlAccepted();
    const [agentLine, inputLine, signatureLine] = signedLines(memberField(), [...BASE, WHOLE]);
    // Accepted as sent (one member) …
    expect(await send([agentLine, inputLine, signatureLine])).toEqual({ status: 200, who: 'crawler' });
    // … refused once the field holds two: the label that would choose between them is not signed.
    const appended = [
      agentLine,
      ['signature-agent', 'sig2="https://other.example"'],
      inputLine,
      signatureLine,
    ];
    expect(await send(appended as [string, string][])).toEqual({
      status: 400,
      who: 'WEB_BOT_AUTH_AGENT_INVALID',
    });
  });
});
