import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { createServer, Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { initCa, issueServerCert } from '../../src/certificates';
import { signWebBotAuthRequest } from '../../src/client';
import { DIRECTORY_PATH } from '../../src/web-bot-auth/web-bot-auth-options';
import { createTestApp, TestApp } from '../support/test-app';
import { buildDirectoryResponse, DirectoryServer, startDirectoryServer } from './support/directory-server';

/**
 * Red team 3 (G90 "agents without a working directory are cached apart, so naming new hosts
 * under a `*.` pattern never evicts a working directory"; G92 stale within staleSeconds).
 * A `*.` pattern whose operator answers for every subdomain (wildcard DNS and certificate, one
 * server: the usual way a fleet is hosted) gives a stranger holding NO key hosts whose
 * directory works: each new host it names is fetched (within maxNewAgentsPerMinute), parses,
 * and joins the working directories' LRU, evicting another agent's fresh directory. That agent,
 * in an outage, is then refused at once instead of verifying from its cached directory.
 */
const SERVICE = 'https://wba.example.test';
const FLEET = 'fleet.test';

describe('Web Bot Auth, red team 3: new hosts with working directories under a pattern', () => {
  let t: TestApp;
  let agent: DirectoryServer;
  let fleet: Server;
  let fleetPort: number;
  let fleetCa: string;
  const agentKey = generateKeyPairSync('ed25519').privateKey;
  const fleetKey = generateKeyPairSync('ed25519').privateKey;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dns = require('node:dns/promises') as {
    lookup: (host: string, options: unknown) => Promise<unknown>;
  };
  const realLookup = dns.lookup;

  beforeAll(async () => {
    agent = await startDirectoryServer({
      keys: [agentKey],
      signing: 'cloudflare',
      cacheControl: 'max-age=3600',
    });
    // The fleet operator: one HTTPS server answering every *.fleet.test name (a cert per SNI name).
    const dir = await mkdtemp(join(tmpdir(), 'kpa-fleet-'));
    fleetCa = (await initCa(join(dir, 'ca'), { cn: 'Fleet Test' })).rootPem;
    const base = await issueServerCert(join(dir, 'ca'), `base.${FLEET}`);
    fleet = createServer(
      {
        cert: base.certPem + base.chainPem,
        key: base.keyPem,
        SNICallback: (name, cb) => {
          issueServerCert(join(dir, 'ca'), name).then(
            (c) => cb(null, createSecureContext({ cert: c.certPem + c.chainPem, key: c.keyPem })),
            (e: Error) => cb(e),
          );
        },
      },
      (req, res) => {
        if ((req.url ?? '') !== DIRECTORY_PATH) return void res.writeHead(404).end();
        void buildDirectoryResponse([fleetKey], 'cloudflare', req.headers.host ?? '', 'max-age=3600').then(
          ({ headers, body }) => res.writeHead(200, headers).end(body),
        );
      },
    );
    await new Promise<void>((r) => fleet.listen(0, '127.0.0.1', r));
    fleetPort = (fleet.address() as AddressInfo).port;
    // Wildcard DNS of the fleet: every *.fleet.test name is the fleet server.
    dns.lookup = (host, options) =>
      host.endsWith(`.${FLEET}`)
        ? Promise.resolve([{ address: '127.0.0.1', family: 4 }])
        : realLookup(host, options);
    t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      options: {
        origin: SERVICE,
        webBotAuth: {
          agents: [
            { origin: agent.origin, username: 'crawler', roles: ['reader'] },
            { origin: `https://*.${FLEET}:${fleetPort}`, username: 'fleet', roles: ['reader'] },
          ],
          directory: {
            ca: [agent.caPem, fleetCa].join('\n'),
            allowLoopback: true,
            maxEntries: 4,
            staleSeconds: 3600,
          },
        },
      },
    });
    await t.addUser('crawler', ['reader']);
    await t.addUser('fleet', ['reader']);
  }, 60_000);
  afterAll(async () => {
    dns.lookup = realLookup;
    await t?.close();
    await agent.close();
    fleet.closeAllConnections();
    await new Promise((r) => fleet.close(r));
  });

  async function get(key: typeof agentKey, agentUrl: string) {
    const { headers } = signWebBotAuthRequest(
      { method: 'GET', url: `${SERVICE}/probe/whoami` },
      { privateKey: key, agent: agentUrl },
    );
    const res = await fetch(`${t.server}/probe/whoami`, { headers });
    return { status: res.status, code: ((await res.json()) as { code?: string }).code };
  }

  it('a cached agent keeps verifying during its outage, however many fleet hosts a stranger names', async () => {
    expect((await get(agentKey, agent.origin)).status).toBe(200);
    // The agent's host goes down; its directory is fresh for an hour.
    agent.setHandler((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    // A stranger (its own key, in no directory) names 5 new fleet hosts: each is fetched and works.
    const stranger = generateKeyPairSync('ed25519').privateKey;
    for (let i = 0; i < 5; i++) {
      const answer = await get(stranger, `https://h${i}.${FLEET}:${fleetPort}`);
      expect(answer).toEqual({ status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' });
    }
    const before = agent.requests;
    const after = await get(agentKey, agent.origin);
    expect({ ...after, refetched: agent.requests - before }).toEqual({
      status: 200,
      code: undefined,
      refetched: 0,
    });
  }, 60_000);
});
