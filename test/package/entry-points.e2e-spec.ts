import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO } from '../support/processes';

/**
 * What each built entry point loads, checked in a fresh Node process over dist/ (as an
 * installed package runs it). A preload hook makes chosen packages "not installed".
 */
const DIST = resolve(REPO, 'dist/src');
let dir: string;
let hook: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kpa-entry-'));
  hook = join(dir, 'uninstall.js');
  // Packages named in KPA_UNINSTALLED fail to resolve, exactly as when they are absent
  // (by name, or by path: TypeORM retries a driver as <cwd>/node_modules/<name>).
  writeFileSync(
    hook,
    `const Module = require('node:module');
const gone = (process.env.KPA_UNINSTALLED || '').split(',').filter(Boolean);
const original = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const installed = request.split('/node_modules/').pop();
  const absent = (name) => installed === name || installed.startsWith(name + '/');
  if (gone.some(absent)) {
    const error = new Error("Cannot find module '" + request + "'");
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return original.call(this, request, ...rest);
};
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(
  script: string,
  uninstalled: string[] = [],
): { status: number | null; out: string; err: string } {
  const result = spawnSync(process.execPath, ['-r', hook, '-e', script], {
    cwd: REPO,
    env: { ...process.env, KPA_UNINSTALLED: uninstalled.join(',') },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, out: result.stdout, err: result.stderr };
}

/** The packages (by name) in require.cache after loading `entry`. */
function packagesLoadedBy(entry: string): string[] {
  const script = `
require(${JSON.stringify(entry)});
const names = Object.keys(require.cache)
  .filter((file) => file.includes('/node_modules/'))
  .map((file) => file.split('/node_modules/').pop().split('/'))
  .map((parts) => (parts[0].startsWith('@') ? parts[0] + '/' + parts[1] : parts[0]));
console.log(JSON.stringify([...new Set(names)].sort()));
console.log(JSON.stringify(typeof Reflect.getMetadata));`;
  const { status, out, err } = run(script);
  expect({ status, err }).toEqual({ status: 0, err: '' });
  const [names, reflect] = out.trim().split('\n');
  expect(JSON.parse(reflect)).toBe('undefined'); // reflect-metadata never ran
  return JSON.parse(names) as string[];
}

const SERVER_ONLY = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/passport',
  '@nestjs/typeorm',
  '@nestjs/swagger',
  'typeorm',
  'reflect-metadata',
  'rxjs',
  'passport',
  'class-validator',
  'class-transformer',
  'better-sqlite3',
  'pg',
  'ioredis',
];

describe('nestjs-keypair-auth/client', () => {
  it('loads no Nest, no ORM, no reflect-metadata and no native module', () => {
    const loaded = packagesLoadedBy(join(DIST, 'client/index.js'));
    expect(loaded.filter((name) => SERVER_ONLY.includes(name))).toEqual([]);
    // Only what the client needs (jose for JWTs, structured-headers for RFC 9421).
    expect(loaded).toEqual(['jose', 'structured-headers']);
  });

  it('loads and signs with every server-side package uninstalled', () => {
    const { status, out, err } = run(
      `const { generateKeyPair, createAuthHeader } = require(${JSON.stringify(join(DIST, 'client/index.js'))});
const pair = generateKeyPair('ed25519');
createAuthHeader({ username: 'alice', privateKey: pair.privateKeyPem }).then((h) => console.log(h.split(' ')[0]));`,
      SERVER_ONLY,
    );
    expect({ status, err, out: out.trim() }).toEqual({ status: 0, err: '', out: 'JWT' });
  });
});

describe('nestjs-keypair-auth/client without ssh2 (an optional peer)', () => {
  it('loads and signs with PEM keys; an OpenSSH key or the agent names `npm install ssh2`', () => {
    const { status, out, err } = run(
      `const c = require(${JSON.stringify(join(DIST, 'client/index.js'))});
const pem = c.generateKeyPair('ed25519').privateKeyPem;
const key = '-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAA\\n-----END OPENSSH PRIVATE KEY-----\\n';
c.createAuthHeader({ username: 'a', privateKey: pem }).then(async (h) => {
  console.log(h.split(' ')[0]);
  try { c.parseOpenSshPrivateKey(key); } catch (e) { console.log(e.code, e.message); }
  try { await c.createSshAgentSigner({ socketPath: '/nonexistent' }).publicKey(); } catch (e) { console.log(e.code, e.message); }
});`,
      ['ssh2'],
    );
    expect({ status, err }).toEqual({ status: 0, err: '' });
    expect(out.trim().split('\n')).toEqual([
      'JWT',
      'OPENSSH_SSH2_MISSING nestjs-keypair-auth needs ssh2 to read OpenSSH private keys, and it is not installed: npm install ssh2',
      'AGENT_SSH2_MISSING nestjs-keypair-auth needs ssh2 to sign with ssh-agent, and it is not installed: npm install ssh2',
    ]);
  });
});

describe('nestjs-keypair-auth (server entry point)', () => {
  it('names the missing peer and the npm command that installs it, at import', () => {
    const { status, err } = run(`require(${JSON.stringify(join(DIST, 'index.js'))})`, [
      '@nestjs/typeorm',
      'typeorm',
    ]);
    expect(status).not.toBe(0);
    expect(err).toContain(
      'nestjs-keypair-auth needs @nestjs/typeorm and typeorm for its key registry: npm install @nestjs/typeorm typeorm',
    );
    expect(err).toContain('MissingPeerDependencyError');
  });

  it('lists every missing group, and one command for them all', () => {
    const { status, err } = run(`require(${JSON.stringify(join(DIST, 'index.js'))})`, [
      '@nestjs/passport',
      'class-validator',
    ]);
    expect(status).not.toBe(0);
    expect(err).toContain(
      'nestjs-keypair-auth needs @nestjs/passport for its guards: npm install @nestjs/passport',
    );
    expect(err).toContain('Install them all with: npm install @nestjs/passport class-validator');
  });

  it('loads with no database driver, no ioredis and no @nestjs/swagger installed (they load where used)', () => {
    const { status, out, err } = run(
      `const lib = require(${JSON.stringify(join(DIST, 'index.js'))}); console.log(typeof lib.KeypairAuthModule);`,
      ['better-sqlite3', 'pg', 'ioredis', '@nestjs/swagger', 'swagger-ui-dist'],
    );
    expect({ status, err, out: out.trim() }).toEqual({ status: 0, err: '', out: 'function' });
  });

  it('a missing SQLite driver fails when the database opens, naming `npm install better-sqlite3`', () => {
    const { status, err } = run(
      `require('reflect-metadata');
const { DataSource } = require('typeorm');
const { dataSourceOptionsFromUrl } = require(${JSON.stringify(join(DIST, 'index.js'))});
new DataSource(dataSourceOptionsFromUrl('sqlite::memory:')).initialize().then(() => process.exit(0));`,
      ['better-sqlite3'],
    );
    expect(status).not.toBe(0);
    expect(err).toContain('npm install better-sqlite3');
  });

  it('a missing PostgreSQL driver fails when the database opens, naming `npm install pg`', () => {
    const { status, err } = run(
      `require('reflect-metadata');
const { DataSource } = require('typeorm');
const { dataSourceOptionsFromUrl } = require(${JSON.stringify(join(DIST, 'index.js'))});
new DataSource(dataSourceOptionsFromUrl('postgres://127.0.0.1:1/none')).initialize().then(() => process.exit(0));`,
      ['pg'],
    );
    expect(status).not.toBe(0);
    expect(err).toContain('npm install pg');
  });
});

describe('nestjs-keypair-auth/redis', () => {
  it('loads without ioredis, and createRedisClient names `npm install ioredis`', () => {
    const { status, err } = run(
      `const { createRedisClient } = require(${JSON.stringify(join(DIST, 'redis/index.js'))});
createRedisClient('redis://127.0.0.1:6379');`,
      ['ioredis'],
    );
    expect(status).not.toBe(0);
    expect(err).toContain(
      'nestjs-keypair-auth needs ioredis for its Redis stores (nestjs-keypair-auth/redis), and it is not installed: npm install ioredis',
    );
  });

  it('red2 F6: without Nest installed, names the missing peers and the npm command at import, as the server entry does', () => {
    const { status, err } = run(`require(${JSON.stringify(join(DIST, 'redis/index.js'))})`, [
      '@nestjs/common',
      '@nestjs/core',
    ]);
    expect(status).not.toBe(0);
    expect(err).toContain('MissingPeerDependencyError');
    expect(err).toContain(
      'nestjs-keypair-auth needs @nestjs/common and @nestjs/core as a NestJS module: npm install @nestjs/common @nestjs/core',
    );
    expect(err).not.toContain("Cannot find module '@nestjs/common'");
  });
});

/** GraphQL and WebSocket packages: optional peers an app without resolvers or gateways never installs. */
const GRAPHQL_AND_WEBSOCKETS = [
  '@nestjs/graphql',
  '@nestjs/apollo',
  '@nestjs/mercurius',
  '@apollo/server',
  'graphql',
  'mercurius',
  'graphql-ws',
  '@nestjs/websockets',
  '@nestjs/platform-ws',
  '@nestjs/platform-socket.io',
  'ws',
  'socket.io',
];

describe('nestjs-keypair-auth without GraphQL or WebSockets (optional peers)', () => {
  it('the server entry loads none of them (beyond what @nestjs/core loads itself), and loads with all of them uninstalled', () => {
    const listing = `
const names = Object.keys(require.cache)
  .filter((file) => file.includes('/node_modules/'))
  .map((file) => file.split('/node_modules/').pop().split('/'))
  .map((parts) => (parts[0].startsWith('@') ? parts[0] + '/' + parts[1] : parts[0]));
console.log(JSON.stringify([...new Set(names)].sort()));`;
    const script = `const lib = require(${JSON.stringify(join(DIST, 'index.js'))});
console.log(typeof lib.KeypairAuthModule, typeof lib.KeypairAuthGuard);${listing}`;
    const installed = run(script);
    expect({ status: installed.status, err: installed.err }).toEqual({ status: 0, err: '' });
    const [types, names] = installed.out.trim().split('\n');
    expect(types).toBe('function function');
    const loaded = JSON.parse(names) as string[];
    expect(loaded).toContain('@nestjs/core'); // the listing works: it sees what the entry loads
    // @nestjs/core requires @nestjs/websockets itself when it is installed (for its socket
    // module); an app without us loads it too, so it is not ours to avoid.
    const core = run(`require('@nestjs/core');${listing}`);
    expect({ status: core.status, err: core.err }).toEqual({ status: 0, err: '' });
    const byCore = JSON.parse(core.out.trim()) as string[];
    const ours = loaded.filter((name) => GRAPHQL_AND_WEBSOCKETS.includes(name) && !byCore.includes(name));
    expect(ours).toEqual([]);

    const uninstalled = run(script, GRAPHQL_AND_WEBSOCKETS);
    expect({ status: uninstalled.status, err: uninstalled.err }).toEqual({ status: 0, err: '' });
    expect(uninstalled.out.trim().split('\n')[0]).toBe('function function');
  });
});
