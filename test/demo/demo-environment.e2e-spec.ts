import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST_DEMO } from '../support/processes';

/**
 * The demo's environment (PORT, HTTP_ADAPTER, DATABASE_URL) is checked before the demo writes
 * anything: the built demo (`npm run build` first), started as `npm start` starts it.
 */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

interface Started {
  code: number | null;
  output: string;
}

/** Runs the demo until it exits or its output matches `until` (then stops it). */
function runDemo(env: Record<string, string>, cwd: string, until = /listening on .*\n/): Promise<Started> {
  const base = { ...process.env };
  for (const name of [
    'PORT',
    'HOST',
    'HTTP_ADAPTER',
    'DATABASE_URL',
    'SERVER_KEY_FILE',
    'REDIS_URL',
    'PUBLIC_ORIGIN',
    'IDEMPOTENCY_LOCK_TTL_SECONDS',
    'WEB_BOT_AUTH_AGENTS',
    'WEB_BOT_AUTH_CA',
    'WEB_BOT_AUTH_ALLOW_LOOPBACK',
  ])
    delete base[name];
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [DIST_DEMO], {
      cwd,
      env: { ...base, NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    const seen = (d: Buffer) => {
      output += d.toString();
      if (until.test(output)) child.kill('SIGTERM');
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.once('error', fail);
    child.once('close', (code) => {
      clearTimeout(timer);
      ok({ code, output: output.replace(ANSI_COLOUR, '') });
    });
  });
}

describe('demo environment: checked before anything is written', () => {
  let cwd: string;
  const rootDir = `kpa-red1-f2-${process.pid}`;
  beforeEach(() => (cwd = mkdtempSync(join(tmpdir(), 'kpa-demo-env-'))));
  afterEach(() => {
    rmSync(cwd, { recursive: true, force: true });
    rmSync(`/${rootDir}`, { recursive: true, force: true });
  });

  it('RED CASE (security, red-team F2): DATABASE_URL=sqlite://DIR/… is refused before the private signing key is written at the filesystem root', async () => {
    const run = await runDemo({ DATABASE_URL: `sqlite://${rootDir}/app.sqlite`, PORT: '0' }, cwd);
    expect(run.code).toBe(1);
    expect(run.output).toContain(`DATABASE_URL: database URL "sqlite://${rootDir}/app.sqlite" is not a form`);
    expect(run.output).not.toMatch(/DEVELOPMENT key/);
    expect(existsSync(`/${rootDir}`)).toBe(false);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('an upper-case SQLITE: URL puts the development key next to the database, like sqlite:', async () => {
    const run = await runDemo({ DATABASE_URL: `SQLITE:${join(cwd, 'db/app.sqlite')}`, PORT: '0' }, join(cwd));
    expect(run.output).toContain(`DEVELOPMENT key, created in ${join(cwd, 'db/demo-server-signing.key')}`);
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it.each([
    [
      'HTTP_ADAPTER=fastfy',
      { HTTP_ADAPTER: 'fastfy' },
      /HTTP_ADAPTER="fastfy" is not an adapter the demo runs on: set it to express or fastify/,
    ],
    ['PORT=http', { PORT: 'http' }, /PORT="http" is not a TCP port: set PORT to a number from 0 to 65535/],
    ['PORT=70000', { PORT: '70000' }, /PORT="70000" is not a TCP port/],
    ['PORT=-1', { PORT: '-1' }, /PORT="-1" is not a TCP port/],
  ])('%s stops the demo with what to set, and writes nothing', async (_name, env, says) => {
    const run = await runDemo({ PORT: '0', DATABASE_URL: 'sqlite:./db/app.sqlite', ...env }, cwd);
    expect([run.code, run.output]).toEqual([1, expect.stringMatching(says)]);
    expect(run.output).not.toMatch(/at .+:\d+:\d+\)?$/m); // no stack trace
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('PORT= (empty) is the default port 3000, as if unset', async () => {
    // Another process may hold 3000: then the demo fails to listen there, which still shows the port it chose.
    const run = await runDemo(
      { PORT: '', DATABASE_URL: 'sqlite::memory:' },
      cwd,
      /listening on .*\n|EADDRINUSE/,
    );
    expect(run.output).toMatch(/listening on http:\/\/127\.0\.0\.1:3000 |EADDRINUSE.*:3000/);
  });

  /** Every path under `dir`, sorted (directories end in /). */
  const tree = (dir: string, prefix = ''): string[] =>
    readdirSync(join(dir, prefix), { withFileTypes: true })
      .flatMap((e) => {
        const path = join(prefix, e.name);
        return e.isDirectory() ? [`${path}/`, ...tree(dir, path)] : [path];
      })
      .sort();

  // RED CASES (red-team 2 F3): each of these wrote demo-server-signing.key, then failed.
  it.each([
    [
      'DATABASE_URL=sqlite:<an existing directory>',
      { DATABASE_URL: 'sqlite:existing-dir' },
      /DATABASE_URL: .*existing-dir is not a file \(a directory\?\): point DATABASE_URL at a SQLite file in it/,
    ],
    [
      'DATABASE_URL=sqlite:conf/settings.ini (not SQLite)',
      { DATABASE_URL: 'sqlite:conf/settings.ini' },
      /DATABASE_URL: .*conf\/settings\.ini is not a SQLite database: point DATABASE_URL at a SQLite file/,
    ],
    [
      'PUBLIC_ORIGIN=example.com (no scheme)',
      { PUBLIC_ORIGIN: 'example.com' },
      /PUBLIC_ORIGIN="example\.com": origin must be a scheme and authority like "https:\/\/api\.example\.com"/,
    ],
    [
      'IDEMPOTENCY_LOCK_TTL_SECONDS=abc',
      { IDEMPOTENCY_LOCK_TTL_SECONDS: 'abc' },
      /IDEMPOTENCY_LOCK_TTL_SECONDS="abc": idempotency\.lockTtlSeconds must be a number from/,
    ],
    [
      'HOST=999.1.1.1 (not an address)',
      { HOST: '999.1.1.1' },
      /HOST="999\.1\.1\.1" is not an IP address or host name: set HOST to e\.g\. 127\.0\.0\.1/,
    ],
    [
      'HOST=nowhere.invalid (resolves nowhere)',
      { HOST: 'nowhere.invalid' },
      /cannot listen on nowhere\.invalid:0 \((ENOTFOUND|EAI_AGAIN)\): set HOST to an address of this machine/,
    ],
  ])(
    'RED CASE (red-team 2 F3): %s stops the demo with what to set, before the development key is written',
    async (_name, env, says) => {
      mkdirSync(join(cwd, 'existing-dir'));
      mkdirSync(join(cwd, 'conf'));
      writeFileSync(join(cwd, 'conf/settings.ini'), '[server]\nport = 3000\n'.repeat(20));
      const before = tree(cwd);
      const run = await runDemo({ PORT: '0', ...env }, cwd);
      expect([run.code, run.output]).toEqual([1, expect.stringMatching(says)]);
      expect(run.output).not.toMatch(/at .+:\d+:\d+\)?$/m); // no stack trace
      expect(tree(cwd)).toEqual(before); // no data/, no demo-server-signing.key anywhere
    },
  );

  it.each([
    [
      'WEB_BOT_AUTH_AGENTS without PUBLIC_ORIGIN',
      { WEB_BOT_AUTH_AGENTS: 'https://crawler.example' },
      /WEB_BOT_AUTH_AGENTS needs PUBLIC_ORIGIN: .*PUBLIC_ORIGIN=http:\/\/127\.0\.0\.1:3000/,
    ],
    [
      'WEB_BOT_AUTH_AGENTS=http://bot.example (not https)',
      { WEB_BOT_AUTH_AGENTS: 'http://bot.example', PUBLIC_ORIGIN: 'http://127.0.0.1:3000' },
      /WEB_BOT_AUTH_AGENTS="http:\/\/bot\.example": webBotAuth\.agents\[0\]\.origin "http:\/\/bot\.example" is not an https origin/,
    ],
    [
      'WEB_BOT_AUTH_CA=/missing.pem',
      {
        WEB_BOT_AUTH_AGENTS: 'https://crawler.example',
        WEB_BOT_AUTH_CA: '/missing.pem',
        PUBLIC_ORIGIN: 'http://127.0.0.1:3000',
      },
      /WEB_BOT_AUTH_CA=\/missing\.pem: cannot read it .*name a PEM file of CA certificates/,
    ],
  ])(
    'the Web Bot Auth settings: %s stops the demo with what to set, before the development key is written',
    async (_name, env, says) => {
      const before = tree(cwd);
      const run = await runDemo({ PORT: '0', ...env }, cwd);
      expect([run.code, run.output]).toEqual([1, expect.stringMatching(says)]);
      expect(run.output).not.toMatch(/at .+:\d+:\d+\)?$/m); // no stack trace
      expect(tree(cwd)).toEqual(before); // no data/, no demo-server-signing.key anywhere
    },
  );

  it('RED CASE (red-team 2 F3): a PORT another process holds stops the demo before the key is written', async () => {
    const holder: Server = createServer();
    await new Promise<void>((ok) => holder.listen(0, '127.0.0.1', ok));
    const { port } = holder.address() as { port: number };
    try {
      const run = await runDemo({ PORT: String(port), DATABASE_URL: 'sqlite:./db/app.sqlite' }, cwd);
      expect([run.code, run.output]).toEqual([
        1,
        expect.stringContaining(
          `cannot listen on 127.0.0.1:${port} (EADDRINUSE): another process holds that port`,
        ),
      ]);
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      holder.close();
    }
  });

  it('an existing SQLite database and an empty file are used as they are', async () => {
    writeFileSync(join(cwd, 'empty.sqlite'), '');
    const run = await runDemo({ PORT: '0', DATABASE_URL: 'sqlite:empty.sqlite' }, cwd);
    expect(run.output).toMatch(/listening on /);
    const again = await runDemo({ PORT: '0', DATABASE_URL: 'sqlite:empty.sqlite' }, cwd);
    expect(again.output).toMatch(/DEVELOPMENT key, reused in .*listening on /s);
  });

  it('RED CASE (red-team 2 F10): PORT=0 logs the port the server got, not 0', async () => {
    const run = await runDemo({ PORT: '0', DATABASE_URL: 'sqlite::memory:' }, cwd);
    const logged = /listening on http:\/\/127\.0\.0\.1:(\d+) /.exec(run.output);
    expect(logged).not.toBeNull();
    expect(Number(logged?.[1])).toBeGreaterThan(0);
  });
});
