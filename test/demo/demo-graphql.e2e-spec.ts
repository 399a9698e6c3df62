import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signRequest } from '../../src/client';
import { jwtHeader } from '../support/auth';
import { testKey, TestKeyPair } from '../support/keys';
import { DemoProcess, DIST_CLI, startDemo } from '../support/processes';

/**
 * The built demo (`npm start` without the build step) serves GraphQL at /graphql on both
 * adapters (Apollo on Express, Mercurius on Fastify), behind the same global guard as its
 * routes: `whoami` answers what `GET /whoami` answers, `adminEcho` needs role admin.
 */
describe.each(['express', 'fastify'] as const)('demo GraphQL at /graphql (HTTP_ADAPTER=%s)', (adapter) => {
  const alice = testKey('ed25519', 0); // reader, admin
  const bob = testKey('ed25519', 1); // reader
  let dir: string;
  let demo: DemoProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kpa-demo-graphql-'));
    const env = { DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, HTTP_ADAPTER: adapter };
    demo = await startDemo(env);
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, [DIST_CLI, ...args], { cwd: dir, env: { ...process.env, ...env } });
    writeFileSync(join(dir, 'alice.pub'), alice.publicPem);
    writeFileSync(join(dir, 'bob.pub'), bob.publicPem);
    cli('users', 'add', 'alice', '--roles', 'reader,admin');
    cli('keys', 'add', 'alice', 'alice.pub', '--key-id', 'alice-laptop');
    cli('users', 'add', 'bob', '--roles', 'reader');
    cli('keys', 'add', 'bob', 'bob.pub', '--key-id', 'bob-laptop');
  });
  afterAll(async () => {
    if (process.env.DEBUG_DEMO) console.log(demo?.output());
    await demo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A request signed with the library's client SDK (RFC 9421, Content-Digest over a body). */
  const signed = (key: TestKeyPair, keyId: string, method: 'GET' | 'POST', path: string, body?: string) => {
    const headers = body ? { 'content-type': 'application/json' } : undefined;
    const url = `${demo.url}${path}`;
    const signature = signRequest({ method, url, headers, body }, { keyId, privateKey: key.privateKey });
    return fetch(url, { method, headers: signature.headers, body });
  };
  const graphql = (key: TestKeyPair, keyId: string, query: string) =>
    signed(key, keyId, 'POST', '/graphql', JSON.stringify({ query }));
  const WHOAMI = '{ whoami { username keyId method roles } }';

  it('the whoami query answers the JSON of GET /whoami for the same key (signed request, client JWT)', async () => {
    const rest = (await (await signed(alice, 'alice-laptop', 'GET', '/whoami')).json()) as unknown;
    expect(rest).toEqual({
      username: 'alice',
      keyId: 'alice-laptop',
      method: 'http-signature-rfc9421',
      roles: ['reader', 'admin'],
    });
    const answer = await graphql(alice, 'alice-laptop', WHOAMI);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ data: { whoami: rest } });

    const jwt = () => jwtHeader(bob.privateKey, 'bob', 'bob-laptop');
    const restJwt = (await (
      await fetch(`${demo.url}/whoami`, { headers: { authorization: await jwt() } })
    ).json()) as unknown;
    const gqlJwt = await fetch(`${demo.url}/graphql`, {
      method: 'POST',
      headers: { authorization: await jwt(), 'content-type': 'application/json' },
      body: JSON.stringify({ query: WHOAMI }),
    });
    expect(restJwt).toEqual({ username: 'bob', keyId: 'bob-laptop', method: 'jwt', roles: ['reader'] });
    expect(await gqlJwt.json()).toEqual({ data: { whoami: restJwt } });
  });

  it('adminEcho answers an admin key and refuses a reader key with ROLE_REQUIRED', async () => {
    const mutation = 'mutation { adminEcho(text: "hi there") }';
    expect(await (await graphql(alice, 'alice-laptop', mutation)).json()).toEqual({
      data: { adminEcho: 'hi there' },
    });
    const refused = (await (await graphql(bob, 'bob-laptop', mutation)).json()) as {
      data: unknown;
      errors: { extensions: { code: string } }[];
    };
    expect(refused.data).toBeNull();
    expect(refused.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'ROLE_REQUIRED' }) }),
    ]);
  });

  it('a signed application/json POST to /echo keeps its raw body for the digest (Fastify too)', async () => {
    const answer = await signed(alice, 'alice-laptop', 'POST', '/echo', '{"hello":"world"}');
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ hello: 'world' });
  });

  it('without credentials the query is refused with CREDENTIALS_MISSING, no data and no stack trace', async () => {
    const answer = await fetch(`${demo.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: WHOAMI }),
    });
    const body = (await answer.json()) as { data: unknown; errors: { extensions: { code: string } }[] };
    expect(body.data).toBeNull();
    expect(body.errors[0].extensions.code).toBe('CREDENTIALS_MISSING');
    // No stack trace (Apollo adds one outside NODE_ENV=production; the demo turns it off).
    expect(JSON.stringify(body)).not.toMatch(/stacktrace|\.js:\d+/);
  });
});
