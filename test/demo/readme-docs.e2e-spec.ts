import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoProcess, DIST_CLI, startDemo } from '../support/processes';
import {
  blocksToScript,
  demoShellBlocks,
  docPages,
  outputByBlock,
  readPage,
  runBash,
  ShellBlock,
} from './doc-shell-blocks';

/**
 * Every ```bash block of README.md and docs/**.md that targets the demo (it names
 * 127.0.0.1:3000, `npm run -s cli` or `npm start`) runs as written against a fresh
 * demo server: one bash session per page, blocks in document order, after the README
 * quickstart (so alice and alice.key exist), with the quickstart test's substitutions
 * only (the built CLI by path, a free port). A block marked `<!-- demo:skip REASON -->`
 * is listed, not run. See test/demo/doc-shell-blocks.ts for the convention.
 */
const LOGIN = /cli -- login\b/;
/** A block that gets tokens: the CLI's login, or POST /auth/token by hand. */
const TOKEN_REQUEST = /cli -- login\b|\/auth\/token\b/;
const REFRESH = /\/auth\/refresh\b/;
const VERIFY = /--verify-with\b/;

interface TokenPair {
  accessToken: string;
  tokenType: string;
  refreshToken: string;
}

function tokenPairs(output: string): TokenPair[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{"'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    })
    .filter(
      (j): j is Record<string, unknown> & TokenPair =>
        typeof j.accessToken === 'string' &&
        /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/.test(j.accessToken) &&
        typeof j.refreshToken === 'string' &&
        /^[\w-]{43}$/.test(j.refreshToken) &&
        (j.tokenType === 'Bearer' || j.tokenType === 'DPoP'),
    );
}

/** The README quickstart, which every other page builds on: it creates alice and her key. */
function quickstartBlocks(): ShellBlock[] {
  const readme = readPage('README.md');
  const begin = readme.indexOf('<!-- quickstart:begin -->');
  const end = readme.indexOf('<!-- quickstart:end -->');
  if (begin < 0 || end < begin)
    throw new Error('README.md has no block between <!-- quickstart:begin/end -->');
  const offset = readme.slice(0, begin).split('\n').length - 1;
  return demoShellBlocks(readme.slice(begin, end), 'README.md').map((b) => ({ ...b, line: b.line + offset }));
}

interface Session {
  demo: DemoProcess;
  dir: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

async function freshDemo(): Promise<Session> {
  const dir = mkdtempSync(join(tmpdir(), 'kpa-docs-'));
  const env = { DATABASE_URL: `sqlite:${join(dir, 'data/keypair-auth.sqlite')}` };
  const demo = await startDemo(env);
  return {
    demo,
    dir,
    env,
    stop: async () => {
      await demo.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function target(demo: DemoProcess): { cli: string; authority: string } {
  return { cli: `node ${JSON.stringify(DIST_CLI)}`, authority: demo.url.slice('http://'.length) };
}

function failure(file: string, result: Awaited<ReturnType<typeof runBash>>, demo: DemoProcess): string {
  const tail = (s: string, n: number): string => s.trimEnd().split('\n').slice(-n).join('\n');
  return (
    `${file}: the block at ${result.lastBlock ?? '(before the first block)'} exited with ${result.code}\n` +
    `--- stdout (tail)\n${tail(result.stdout, 30)}\n--- stderr (tail)\n${tail(result.stderr, 30)}\n` +
    `--- demo (tail)\n${tail(demo.output(), 15)}`
  );
}

const pages = docPages().map((file) => ({ file, blocks: demoShellBlocks(readPage(file), file) }));
const runnable = pages
  .map(({ file, blocks }) => ({ file, blocks: blocks.filter((b) => b.skip === null), count: 0 }))
  .filter((p) => p.blocks.length > 0)
  .map((p) => ({ ...p, count: p.blocks.length }));

describe('the docs scanner', () => {
  const fixture = 'test/demo/fixtures/demo-page.md';

  it('finds the demo-targeting bash blocks in document order, indented ones too, with their skip reasons', () => {
    const blocks = demoShellBlocks(readPage(fixture), fixture);
    expect(blocks.map((b) => [b.line, b.skip])).toEqual([
      [16, null],
      [25, 'needs nginx in front of the demo'],
      [31, null],
    ]);
    expect(blocks[2].code).toMatch(/^npm run -s cli -- request GET/);
  });

  it('refuses a demo:skip without a reason', () => {
    expect(() => demoShellBlocks('<!-- demo:skip -->\n```bash\nnpm start\n```\n', 'x.md')).toThrow(
      /needs a reason/,
    );
  });

  it('substitutes only the CLI path and the port, drops npm start/ci, and reports the failing block', async () => {
    const blocks = demoShellBlocks(
      '```bash\nnpm start\necho http://127.0.0.1:3000\n```\n\n```bash\nnpm run -s cli -- request GET http://127.0.0.1:3000/ --key missing.key\n```\n',
      'x.md',
    );
    const script = blocksToScript(blocks, { cli: 'node /the/cli.js', authority: '127.0.0.1:1' });
    expect(script).not.toMatch(/npm start/);
    expect(script).toContain('echo http://127.0.0.1:1\n');
    expect(script).toContain('node /the/cli.js request GET http://127.0.0.1:1/ --key missing.key');
    const result = await runBash(
      blocksToScript(blocks, { cli: `node ${JSON.stringify(DIST_CLI)}`, authority: '127.0.0.1:1' }),
      { cwd: tmpdir(), env: {}, timeoutMs: 20_000 },
    );
    expect(result.code).not.toBe(0);
    expect(result.lastBlock).toBe('::demo-block x.md:6::');
    expect(outputByBlock(result.stdout, blocks).get(blocks[0])).toBe('http://127.0.0.1:1\n');
  });
});

describe('README and docs: every shell block that targets the demo runs against it', () => {
  it('finds such blocks, and among them a login, a refresh and a --verify-with', () => {
    const all = runnable.flatMap((p) => p.blocks);
    expect(all.length).toBeGreaterThan(0);
    expect(all.some((b) => LOGIN.test(b.code))).toBe(true);
    expect(all.some((b) => REFRESH.test(b.code))).toBe(true);
    expect(all.some((b) => VERIFY.test(b.code))).toBe(true);
  });

  it.each(runnable)(
    '$file: its $count blocks exit 0, logins print token pairs, refreshes new ones, token files are 0600 (red-team 2 F8)',
    async ({ file, blocks }) => {
      const session = await freshDemo();
      try {
        const before = file === 'README.md' ? [] : quickstartBlocks();
        const result = await runBash(blocksToScript([...before, ...blocks], target(session.demo)), {
          cwd: session.dir,
          env: session.env,
          timeoutMs: 90_000,
        });
        if (result.code !== 0) throw new Error(failure(file, result, session.demo));
        const outputs = outputByBlock(result.stdout, blocks);
        const seen = new Set<string>();
        for (const block of blocks) {
          const output = outputs.get(block) ?? '';
          const pairs = tokenPairs(output);
          const where = `${file}:${block.line}`;
          if (TOKEN_REQUEST.test(block.code)) {
            expect({ where, printsATokenPair: pairs.length > 0 }).toEqual({ where, printsATokenPair: true });
          }
          if (REFRESH.test(block.code)) {
            const fresh = pairs.filter((p) => !seen.has(p.refreshToken) && !seen.has(p.accessToken));
            expect({ where, refreshPrintsANewPair: fresh.length > 0 }).toEqual({
              where,
              refreshPrintsANewPair: true,
            });
          }
          if (VERIFY.test(block.code)) {
            // The CLI exits non-zero when a response does not verify; the body is still printed.
            expect({ where, printsTheVerifiedBody: /^[{[]/m.test(output) }).toEqual({
              where,
              printsTheVerifiedBody: true,
            });
          }
          for (const p of pairs) seen.add(p.refreshToken).add(p.accessToken);
        }
        // RED CASE (red-team 2 F8): a file a block writes with a refresh token in it (good for 7 days)
        // is mode 0600, not 0644 as `| tee tokens.json` left it under the usual umask 022.
        for (const name of readdirSync(session.dir)) {
          const path = join(session.dir, name);
          if (!statSync(path).isFile() || !readFileSync(path, 'utf8').includes('"refreshToken"')) continue;
          expect({ file: name, mode: (statSync(path).mode & 0o777).toString(8) }).toEqual({
            file: name,
            mode: '600',
          });
        }
      } finally {
        await session.stop();
      }
    },
    120_000,
  );
});

describe('--verify-with, as the docs use it', () => {
  let session: Session;
  let impostor: Server;
  let impostorUrl: string;

  beforeAll(async () => {
    session = await freshDemo();
    const setup = await runBash(blocksToScript(quickstartBlocks(), target(session.demo)), {
      cwd: session.dir,
      env: session.env,
      timeoutMs: 60_000,
    });
    if (setup.code !== 0) throw new Error(failure('README.md quickstart', setup, session.demo));
    // A JWKS that names the demo's server keyId, with another key.
    const real = (await (await fetch(`${session.demo.url}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string; alg: string }[];
    };
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    const body = JSON.stringify({
      keys: [{ ...other, kid: real.keys[0].kid, alg: real.keys[0].alg, use: 'sig' }],
    });
    impostor = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(body));
    await new Promise<void>((ok) => impostor.listen(0, '127.0.0.1', ok));
    impostorUrl = `http://127.0.0.1:${(impostor.address() as { port: number }).port}/.well-known/jwks.json`;
  }, 90_000);
  afterAll(async () => {
    await new Promise((ok) => impostor?.close(ok));
    await session?.stop();
  });

  const verifyLine = (): string => {
    const line = runnable
      .flatMap((p) => p.blocks)
      .flatMap((b) => b.code.split('\n'))
      .find((l) => VERIFY.test(l) && l.includes('127.0.0.1:3000/.well-known/jwks.json'));
    if (!line) throw new Error('no docs line uses --verify-with http://127.0.0.1:3000/.well-known/jwks.json');
    return line;
  };

  it("verifies the demo's signed answer with the demo's JWKS", async () => {
    const block = { file: 'docs', line: 0, code: verifyLine(), skip: null };
    const result = await runBash(blocksToScript([block], target(session.demo)), {
      cwd: session.dir,
      env: session.env,
      timeoutMs: 30_000,
    });
    if (result.code !== 0) throw new Error(failure('the --verify-with line', result, session.demo));
    expect(result.stdout).toMatch(/^[{[]/m);
  });

  it('fails when the JWKS holds another key under the same keyId', async () => {
    const code = verifyLine().replace(/http:\/\/127\.0\.0\.1:3000\/\.well-known\/jwks\.json/, impostorUrl);
    const block = { file: 'docs', line: 0, code, skip: null };
    const result = await runBash(blocksToScript([block], target(session.demo)), {
      cwd: session.dir,
      env: session.env,
      timeoutMs: 30_000,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/signature/i);
  });
});
