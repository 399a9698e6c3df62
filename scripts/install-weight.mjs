#!/usr/bin/env node
/* global process, console */
// Install weight: what installing nestjs-keypair-auth adds to an app, measured.
//   npm run install-weight        (packs the repo, which builds it, then installs the tarball)
//
// (i)  a fresh Nest 11 + TypeORM + pg app, before and after installing ours (alone, then with
//      the peers its server entry needs that such an app lacks);
// (ii) a client-only install: `npm install <tarball>` in an empty folder.
// It fails (exit 1) when the client-only install holds Nest, an ORM or a driver, or cannot
// run the CLI's keygen and token commands, or when either install brings a native build or
// swagger-ui.
// Packages come from npm's cache at the versions of our lockfile (--prefer-offline); install
// scripts are skipped (a package that has one is reported as such, which is what we check).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..');
const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')).packages;
const pinned = (name) => {
  const version = lock[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`${name} is not in package-lock.json`);
  return version;
};
const env = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^(npm_|INIT_CWD$)/i.test(name)),
);

function npm(args, cwd) {
  const result = spawnSync('npm', args, {
    cwd,
    encoding: 'utf8',
    env: { ...env, npm_config_update_notifier: 'false' },
  });
  if (result.status !== 0) {
    console.error(`npm ${args.join(' ')} (in ${cwd}) failed:\n${result.stdout}\n${result.stderr}`);
    process.exit(2);
  }
  return result.stdout;
}
const install = (cwd, specs = []) =>
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...specs], cwd);

function bytesIn(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += bytesIn(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

/** The installed tree: package name → { version, hasInstallScript }, and its size on disk. */
function measure(app) {
  const packages = new Map();
  const tree = JSON.parse(readFileSync(join(app, 'node_modules/.package-lock.json'), 'utf8')).packages;
  for (const [path, meta] of Object.entries(tree)) {
    if (meta.link) continue;
    const name = path.split('node_modules/').pop();
    const native = Boolean(meta.hasInstallScript) || hasBindingGyp(join(app, path));
    packages.set(`${name}@${meta.version}`, { name, native });
  }
  return { packages, bytes: bytesIn(join(app, 'node_modules')) };
}
/** The largest top-level packages of an install, for the report. */
function largest(app, count = 5) {
  const root = join(app, 'node_modules');
  const sizes = [];
  for (const entry of readdirSync(root)) {
    if (entry.startsWith('.')) continue;
    const scoped = entry.startsWith('@')
      ? readdirSync(join(root, entry)).map((n) => `${entry}/${n}`)
      : [entry];
    for (const name of scoped) sizes.push([name, bytesIn(join(root, name))]);
  }
  return sizes
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, bytes]) => `${name} ${mb(bytes)}`)
    .join(', ');
}
function hasBindingGyp(dir) {
  try {
    return statSync(join(dir, 'binding.gyp')).isFile();
  } catch {
    return false;
  }
}

const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const names = (set) => [...set].map((key) => key.replace(/@[^@]*$/, ''));
const SWAGGER_UI = ['swagger-ui-dist', '@scarf/scarf'];
// reflect-metadata is not here: @peculiar/x509 (certificates, the CA) depends on it. The client
// entry never loads it (test/package/entry-points.e2e-spec.ts checks what it loads).
const SERVER_ONLY =
  /^(@nestjs\/|typeorm$|rxjs$|better-sqlite3$|pg$|ioredis$|passport$|class-validator$|class-transformer$)/;

const work = mkdtempSync(join(tmpdir(), 'kpa-weight-'));
const problems = [];
try {
  console.log('Packing the repo (npm pack runs the build)…');
  npm(['pack', '--pack-destination', work], REPO);
  const tarball = join(
    work,
    readdirSync(work).find((f) => f.endsWith('.tgz')),
  );
  const ours = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  console.log(`tarball: ${(statSync(tarball).size / 1e3).toFixed(0)} kB\n`);

  // (i) A fresh Nest 11 + TypeORM + pg app.
  const app = join(work, 'nest-app');
  mkdirSync(app);
  const base = [
    '@nestjs/common',
    '@nestjs/core',
    '@nestjs/platform-express',
    'reflect-metadata',
    'rxjs',
    '@nestjs/typeorm',
    'typeorm',
    'pg',
  ];
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'nest-app',
      private: true,
      dependencies: Object.fromEntries(base.map((n) => [n, pinned(n)])),
    }),
  );
  install(app);
  const before = measure(app);
  install(app, [tarball]);
  const alone = measure(app);
  // The peers our server entry checks for at import that such an app does not have yet.
  const peers = Object.keys(ours.peerDependencies).filter(
    (n) =>
      !base.includes(n) &&
      ['@nestjs/passport', 'passport', 'class-validator', 'class-transformer'].includes(n),
  );
  install(
    app,
    peers.map((n) => `${n}@${pinned(n)}`),
  );
  const after = measure(app);

  const report = (label, from, to) => {
    const added = new Set([...to.packages.keys()].filter((k) => !from.packages.has(k)));
    console.log(
      `${label}: +${added.size} packages, +${mb(to.bytes - from.bytes)} (node_modules ${mb(from.bytes)} → ${mb(to.bytes)})`,
    );
    console.log(`  added: ${names(added).sort().join(', ') || 'nothing'}`);
    const native = [...added].filter((k) => to.packages.get(k).native);
    const swagger = names(added).filter((n) => SWAGGER_UI.includes(n));
    console.log(
      `  native builds: ${native.join(', ') || 'none'}; swagger-ui: ${swagger.join(', ') || 'none'}`,
    );
    if (native.length) problems.push(`${label}: native builds ${native.join(', ')}`);
    if (swagger.length) problems.push(`${label}: swagger-ui ${swagger.join(', ')}`);
    return added;
  };
  console.log(`(i) Nest 11 + TypeORM + pg app (${before.packages.size} packages, ${mb(before.bytes)}):`);
  report(`  npm install nestjs-keypair-auth`, before, alone);
  report(`  … and its peers ${peers.join(' ')}`, before, after);
  console.log(`  largest in the app: ${largest(app)}`);

  // (ii) Client only: the tarball in an empty folder.
  const client = join(work, 'client-only');
  mkdirSync(client);
  writeFileSync(join(client, 'package.json'), JSON.stringify({ name: 'client-only', private: true }));
  install(client, [tarball]);
  const empty = { packages: new Map(), bytes: 0 };
  console.log('\n(ii) client only (npm install nestjs-keypair-auth in an empty folder):');
  const added = report('  npm install nestjs-keypair-auth', empty, measure(client));
  const server = names(added).filter((n) => SERVER_ONLY.test(n));
  console.log(`  Nest, ORM, drivers: ${server.join(', ') || 'none'}`);
  console.log(`  largest: ${largest(client)}`);
  // The CLI's signing commands run there too (no Nest, no ORM).
  const cli = (...args) =>
    spawnSync(
      process.execPath,
      [join(client, 'node_modules/nestjs-keypair-auth/dist/src/cli/main.js'), ...args],
      {
        cwd: client,
        encoding: 'utf8',
      },
    );
  const keygen = cli('keygen', '--type', 'ed25519', '--out', 'probe');
  const token = cli('token', '--key', 'probe.key', '--username', 'probe');
  const signs = keygen.status === 0 && token.status === 0 && token.stdout.startsWith('JWT ');
  console.log(`  keypair-auth keygen and token: ${signs ? 'run' : `fail\n${keygen.stderr}${token.stderr}`}`);
  if (!signs) problems.push('client-only install: keypair-auth keygen/token do not run');
  if (server.length) problems.push(`client-only install holds ${server.join(', ')}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (problems.length) {
  console.error(`\nFAIL:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('\nOK: no native build, no swagger-ui, and the client-only install has no Nest, ORM or driver.');
