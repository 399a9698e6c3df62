import { ChildProcess, spawn, spawnSync, SpawnSyncReturns } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { SERVER_PEER_DEPENDENCIES } from '../../src/peer-dependencies';
import { freePort, REPO } from '../support/processes';
import { firstAppBlocks, shellSteps, ShellStep } from './first-app';

/**
 * The package as a user gets it: `npm pack` (which builds, through `prepack`), then
 * `npm install <tarball>` into a brand-new Nest 11 app whose files are the README's
 * "Your first app in five minutes" blocks, verbatim. The app compiles under
 * `tsc --strict` (moduleResolution node and nodenext), its first admin is created
 * with the installed CLI, and a plain-Node script importing only the client entry
 * authenticates a JWT call and an RFC 9421 signed POST, on Express and on Fastify.
 *
 * Dependencies install from npm's cache (`--prefer-offline`), at the versions of our
 * lockfile. One shortcut, stated: install scripts are skipped and better-sqlite3's
 * native module is copied from this repo's node_modules when it is the same version
 * built for the same Node (else `npm rebuild` compiles it, ~60 s). Our package has no
 * install script (asserted below), so skipping scripts hides nothing of ours.
 */

const LOCK = JSON.parse(readFileSync(resolve(REPO, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string }>;
};
function pinned(name: string): string {
  const version = LOCK.packages[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`${name} is not in package-lock.json`);
  return version;
}

/** What `nest new` gives, plus what the README's install line adds, plus Fastify. */
const APP_DEPENDENCIES = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/platform-express',
  '@nestjs/platform-fastify',
  'reflect-metadata',
  'rxjs',
  '@nestjs/passport',
  'passport',
  '@nestjs/typeorm',
  'typeorm',
  'better-sqlite3',
  'class-validator',
  'class-transformer',
];
const APP_DEV_DEPENDENCIES = ['typescript', '@types/node', '@types/jest'];
/** Installed by `nest new`, so the README's install line need not name them. */
const NEST_NEW = ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express', 'reflect-metadata', 'rxjs'];

function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  timeout = 300_000,
): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout,
    env: { ...cleanEnv(), npm_config_update_notifier: 'false', npm_config_fund: 'false', ...env },
  });
}

/** This process's environment without what `npm test` adds (its config and package), which would steer the npm we run. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(npm_|INIT_CWD$)/i.test(name)),
  ) as NodeJS.ProcessEnv;
}

function ok(result: SpawnSyncReturns<string>, what: string): string {
  if (result.status !== 0) {
    throw new Error(`${what} exited with ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/** npm can reach the registry or its cache for our pinned versions (else: skip, visibly). */
function npmAvailable(): boolean {
  const probe = run(
    'npm',
    ['view', `@nestjs/common@${pinned('@nestjs/common')}`, 'version', '--prefer-offline'],
    REPO,
    {},
    60_000,
  );
  return probe.status === 0 && probe.stdout.trim() === pinned('@nestjs/common');
}

const available = npmAvailable();
if (!available) {
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error(
      'REQUIRE_SERVICES=1 but npm reaches neither the registry nor a cache holding @nestjs/common',
    );
  }
  console.warn(
    '\n*** SKIPPING test/package/pack-install: npm reaches neither the registry nor its cache. ***\n',
  );
}

(available ? describe : describe.skip)('npm pack → npm install into a fresh Nest 11 app', () => {
  let work: string;
  let app: string;
  let tarball: string;
  let steps: ShellStep[];
  let blocks: Map<string, string>;
  let source: string;

  beforeAll(() => {
    ({ source, blocks } = firstAppBlocks());
    for (const name of ['shell', 'src/app.module.ts', 'src/main.ts', 'src/main-fastify.ts', 'client.mjs']) {
      if (!blocks.has(name)) throw new Error(`${source} has no block marked <!-- first-app:${name} -->`);
    }
    steps = shellSteps(blocks.get('shell')!);

    work = mkdtempSync(join(tmpdir(), 'kpa-pack-'));
    app = join(work, 'app');
    mkdirSync(app);
    ok(run('npm', ['pack', '--pack-destination', work], REPO), 'npm pack');
    tarball = join(
      work,
      readdirSync(work).find((f) => f.endsWith('.tgz'))!,
    );

    for (const [name, text] of blocks)
      if (name !== 'shell') {
        mkdirSync(dirname(join(app, name)), { recursive: true });
        writeFileSync(join(app, name), text);
      }
    // The app also imports the other entry points, for the compile checks.
    writeFileSync(
      join(app, 'src/entry-points.ts'),
      `import { createAuthHeader, createSignedFetch, generateKeyPair } from 'nestjs-keypair-auth/client';
import { replayStoreContract } from 'nestjs-keypair-auth/testing';
import { KeypairAuthModule, MissingPeerDependencyError } from 'nestjs-keypair-auth';
export const entryPoints = [createAuthHeader, createSignedFetch, generateKeyPair, replayStoreContract, KeypairAuthModule, MissingPeerDependencyError];
`,
    );
    const compilerOptions = {
      strict: true,
      target: 'ES2022',
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      skipLibCheck: true,
      outDir: 'dist',
      rootDir: 'src',
    };
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { ...compilerOptions, module: 'commonjs', moduleResolution: 'node' },
        include: ['src'],
      }),
    );
    writeFileSync(
      join(app, 'tsconfig.nodenext.json'),
      JSON.stringify({
        compilerOptions: {
          ...compilerOptions,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          noEmit: true,
        },
        include: ['src'],
      }),
    );
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify(
        {
          name: 'first-app',
          private: true,
          scripts: { build: 'tsc -p tsconfig.json' },
          dependencies: {
            'nestjs-keypair-auth': `file:${tarball}`,
            ...Object.fromEntries(APP_DEPENDENCIES.map((name) => [name, pinned(name)])),
          },
          devDependencies: Object.fromEntries(APP_DEV_DEPENDENCIES.map((name) => [name, pinned(name)])),
        },
        null,
        2,
      ),
    );
    ok(
      run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], app),
      'npm install in the new app',
    );
    const builtHere = resolve(REPO, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
    const appSqlite = join(app, 'node_modules/better-sqlite3');
    const sameVersion =
      JSON.parse(readFileSync(join(appSqlite, 'package.json'), 'utf8')).version ===
      JSON.parse(readFileSync(resolve(REPO, 'node_modules/better-sqlite3/package.json'), 'utf8')).version;
    if (sameVersion && existsSync(builtHere)) {
      mkdirSync(join(appSqlite, 'build/Release'), { recursive: true });
      copyFileSync(builtHere, join(appSqlite, 'build/Release/better_sqlite3.node'));
    } else {
      ok(run('npm', ['rebuild', 'better-sqlite3'], app, {}, 600_000), 'npm rebuild better-sqlite3');
    }
  }, 900_000);

  afterAll(() => {
    if (work && !process.env.KEEP_PACK_APP) rmSync(work, { recursive: true, force: true });
  });

  it('packs built JavaScript and declarations, docs, examples and LICENSE: no maps, no specs, no install script', () => {
    const listed = ok(run('tar', ['-tzf', tarball], work), 'tar')
      .trim()
      .split('\n');
    const files = listed.map((entry) => entry.replace(/^package\//, ''));
    const unexpected = files.filter(
      (f) =>
        !['package.json', 'README.md', 'LICENSE'].includes(f) &&
        !/^dist\/src\/.+\.(js|d\.ts)$/.test(f) &&
        !f.startsWith('docs/') &&
        !f.startsWith('examples/'),
    );
    expect(unexpected).toEqual([]);
    expect(files.filter((f) => f.includes('.spec.') || f.endsWith('.map'))).toEqual([]);
    for (const f of [
      'LICENSE',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/client/index.d.ts',
      'dist/src/cli/main.js',
    ]) {
      expect(files).toContain(f);
    }
    const manifest = JSON.parse(
      readFileSync(join(app, 'node_modules/nestjs-keypair-auth/package.json'), 'utf8'),
    );
    expect(Object.keys(manifest.scripts ?? {}).filter((s) => /^(pre|post)?install$/.test(s))).toEqual([]);
  });

  it("the README's install line names every peer the first app needs", () => {
    const install = steps.find((s): s is Extract<ShellStep, { kind: 'install' }> => s.kind === 'install');
    expect(install).toBeDefined();
    const needed = [
      'nestjs-keypair-auth',
      'better-sqlite3',
      ...SERVER_PEER_DEPENDENCIES.flatMap((group) => group.packages).filter(
        (name) => !NEST_NEW.includes(name),
      ),
    ];
    expect([...install!.packages].sort()).toEqual([...new Set(needed)].sort());
  });

  it('npm ls @nestjs/common shows exactly one copy', () => {
    const copies = ok(run('npm', ['ls', '@nestjs/common', '--all', '--parseable'], app), 'npm ls')
      .trim()
      .split('\n')
      .filter(Boolean);
    expect(copies).toEqual([join(app, 'node_modules/@nestjs/common')]);
    for (const nested of ['@nestjs', 'typeorm', 'reflect-metadata', 'rxjs']) {
      expect(existsSync(join(app, 'node_modules/nestjs-keypair-auth/node_modules', nested))).toBe(false);
    }
  });

  it('compiles under tsc --strict with moduleResolution node (module commonjs)', () => {
    ok(run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], app), 'tsc (node)');
    expect(existsSync(join(app, 'dist/main.js'))).toBe(true);
  }, 120_000);

  it('compiles under tsc --strict with moduleResolution nodenext', () => {
    ok(
      run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.nodenext.json'], app),
      'tsc (nodenext)',
    );
  }, 120_000);

  let env: Record<string, string>;

  async function start(main: string): Promise<{ url: string; child: ChildProcess; output: () => string }> {
    const port = await freePort();
    const child = spawn(process.execPath, [main], {
      cwd: app,
      env: { ...cleanEnv(), ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${main} exited with ${child.exitCode}:\n${out}`);
      try {
        await fetch(`${url}/reports`);
        return { url, child, output: () => out };
      } catch {
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`${main} did not listen within 30 s:\n${out}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async function stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((done) => {
      child.once('exit', () => done());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  }

  /** Runs client.mjs (only `nestjs-keypair-auth/client`) and checks both calls got in. */
  function runClient(url: string): void {
    const output = ok(
      run(process.execPath, ['client.mjs'], app, { ...env, API_URL: url }, 30_000),
      'node client.mjs',
    );
    expect(output.trim().split('\n')).toEqual([
      '200 {"for":"alice","via":"jwt"}',
      '201 {"created":"Q3","by":"alice","via":"http-signature-rfc9421"}',
    ]);
  }

  it('runs on Express: first start, the first admin with the installed CLI, then client.mjs', async () => {
    env = {};
    let server: Awaited<ReturnType<typeof start>> | undefined;
    try {
      for (const step of steps) {
        if (step.kind === 'install') continue; // done above, from the tarball
        if (step.kind === 'start') server = await start('dist/main.js');
        else if (step.kind === 'env') env[step.name] = step.value;
        else if (step.line === 'node client.mjs') runClient(server!.url);
        else ok(run('sh', ['-c', step.line], app, env, 60_000), step.line);
      }
      expect(server).toBeDefined();
      expect(env.DATABASE_URL).toBeDefined();
      // Without a credential the guarded route refuses.
      expect((await fetch(`${server!.url}/reports`)).status).toBe(401);
    } finally {
      if (server) await stop(server.child);
    }
  }, 180_000);

  it('runs on Fastify, on the same database', async () => {
    expect(env.DATABASE_URL).toBeDefined(); // the Express run created the admin
    const server = await start('dist/main-fastify.js');
    try {
      runClient(server.url);
      expect((await fetch(`${server.url}/reports`)).status).toBe(401);
    } finally {
      await stop(server.child);
    }
  }, 120_000);

  it('the client entry, imported from an ES module, loads no Nest, no ORM and no native module', () => {
    writeFileSync(
      join(app, 'client-loads.mjs'),
      `import 'nestjs-keypair-auth/client';
import { createRequire } from 'node:module';
console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`,
    );
    const loaded = (
      JSON.parse(ok(run(process.execPath, ['client-loads.mjs'], app), 'client-loads.mjs')) as string[]
    ).map((file) => file.slice(app.length));
    expect(loaded).toContain('/node_modules/nestjs-keypair-auth/dist/src/client/index.js');
    const packages = new Set(loaded.map((file) => /\/node_modules\/((@[^/]+\/)?[^/]+)\//.exec(file)?.[1]));
    expect([...packages].sort()).toEqual(['jose', 'nestjs-keypair-auth', 'structured-headers']);
  });
});
