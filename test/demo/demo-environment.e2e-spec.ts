import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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
  for (const name of ['PORT', 'HOST', 'HTTP_ADAPTER', 'DATABASE_URL', 'SERVER_KEY_FILE', 'REDIS_URL'])
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
});
