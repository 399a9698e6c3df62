import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoProcess, DIST_CLI, REPO, startDemo } from '../support/processes';
import { createTestDatabase, DATABASES } from '../support/test-database';

/**
 * Runs the README's quickstart block as written, against the real demo server.
 * Two substitutions only: `npm run -s cli --` becomes the same built CLI by path
 * (so keys land in a temp dir, not the repo), and port 3000 becomes a free port.
 */
function readmeBlock(marker: string): string[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const block = new RegExp(
    `<!-- ${marker}:begin -->\\s*\`\`\`bash\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${marker}:end -->`,
  ).exec(readme);
  if (!block) throw new Error(`README.md has no ${marker} block between its markers`);
  return block[1]
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('npm start') && !l.startsWith('npm ci'));
}

describe.each(DATABASES)('README quickstart against the demo server (%s)', (database) => {
  let demo: DemoProcess;
  let dir: string;
  let env: Record<string, string>;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kpa-quickstart-'));
    const db =
      database === 'sqlite'
        ? { url: `sqlite:${join(dir, 'data/keypair-auth.sqlite')}`, drop: async () => undefined }
        : await createTestDatabase('postgres');
    drop = db.drop;
    env = { DATABASE_URL: db.url };
    demo = await startDemo(env);
  });
  afterAll(async () => {
    await demo?.stop();
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives 200 from /whoami with the right username and roles, by JWT and by a signed request', () => {
    const script = [...readmeBlock('quickstart'), ...readmeBlock('signature-quickstart')]
      .map((l) =>
        l
          .replaceAll('npm run -s cli --', `node ${JSON.stringify(DIST_CLI)}`)
          .replaceAll('127.0.0.1:3000', demo.url.slice('http://'.length)),
      )
      .join('\n');
    const out = execFileSync('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: dir,
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    // Last four answers: /whoami by JWT, /whoami by a signed request, then two /echo.
    const answers = out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const whoami = { username: 'alice', keyId: expect.any(String), roles: ['reader', 'admin'] };
    expect(answers.slice(-4)).toEqual([
      { ...whoami, method: 'jwt' },
      { ...whoami, method: 'http-signature-rfc9421' },
      { hello: 'world' },
      { type: 'Note' },
    ]);
  });

  it('serves /health publicly, OpenAPI at /docs, and 401 with a code without credentials', async () => {
    expect(await (await fetch(`${demo.url}/health`)).json()).toEqual({
      status: 'ok',
      database: 'up',
      replayStore: 'in-memory',
    });
    const docs = await fetch(`${demo.url}/docs/json`);
    expect(docs.status).toBe(200);
    const spec = (await docs.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/admin/users', '/admin/users/{username}/keys', '/keys', '/whoami']),
    );
    expect((await fetch(`${demo.url}/docs`)).status).toBe(200);
    const res = await fetch(`${demo.url}/whoami`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'CREDENTIALS_MISSING' });
  });
});

describe('demo server on Fastify', () => {
  it('starts, serves /docs and refuses anonymous /whoami', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpa-fastify-'));
    const demo = await startDemo({
      DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
      HTTP_ADAPTER: 'fastify',
    });
    try {
      expect((await fetch(`${demo.url}/docs/json`)).status).toBe(200);
      expect((await fetch(`${demo.url}/whoami`)).status).toBe(401);
      const help = execFileSync(process.execPath, [DIST_CLI, '--help'], { encoding: 'utf8' });
      expect(help).toMatch(/keygen[\s\S]*users[\s\S]*keys[\s\S]*token/);
    } finally {
      await demo.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
