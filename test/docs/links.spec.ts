import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { anchorsOf, githubSlug, linkProblems, RepoLookup } from './markdown-links';

/**
 * Every link in README.md and docs/*.md resolves inside the published package (README, LICENSE,
 * docs/, examples/), with its #anchor, or is an absolute https URL. The checker is a pure
 * function; the second block feeds it a broken page to show it catches each kind of mistake.
 */
const root = resolve(__dirname, '../..');

const repo: RepoLookup = (path) => {
  const full = join(root, path);
  if (!existsSync(full)) return undefined;
  return statSync(full).isFile() && path.endsWith('.md') ? readFileSync(full, 'utf8') : '';
};

const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

describe('links in README.md and docs/*.md', () => {
  it('finds the pages it checks', () => {
    expect(pages).toEqual(expect.arrayContaining(['README.md', 'docs/SECURITY.md', 'docs/errors.md']));
  });

  it.each(pages)('%s links only to shipped files and anchors that exist, or to https URLs', (page) => {
    expect(linkProblems(page, readFileSync(join(root, page), 'utf8'), repo)).toEqual([]);
  });
});

describe('the link checker', () => {
  const files: Record<string, string> = {
    'README.md': '# Title\n\n## Two commands\n',
    'docs/tokens.md': '# Access and refresh tokens\n\n## Proof of possession: DPoP (RFC 9449)\n',
    'examples/nginx/site.conf': '',
    'test/demo/quickstart.e2e-spec.ts': '',
    'src/index.ts': '',
  };
  const lookup: RepoLookup = (path) =>
    files[path] ?? (Object.keys(files).some((name) => name.startsWith(`${path}/`)) ? '' : undefined);

  const page = [
    '# Guide', // line 1
    '',
    '## Same page',
    '[ok](#same-page) [ok](../README.md#two-commands) [ok](tokens.md#proof-of-possession-dpop-rfc-9449)',
    '[ok](../examples/nginx/site.conf) [ok](../examples/nginx/) [ok](https://example.com/x#y)', // line 5
    '[missing file](missing.md)',
    '[missing anchor](tokens.md#no-such-heading) [missing here](#nowhere)',
    '[test](../test/demo/quickstart.e2e-spec.ts) [src](../src/index.ts)',
    '[outside](../../shared/TOOLCHAIN.md)',
    '[plain http](http://example.com/) [absolute](/docs/tokens.md)', // line 10
    'In code, never a link: `[x](../test/a.ts)`',
    '```md',
    '[x](../../outside.md)',
    '```',
    '[ref]: ../bench/README.md', // line 15
  ].join('\n');

  it('reports each kind of broken link, on its line, and nothing else', () => {
    expect(linkProblems('docs/guide.md', page, lookup)).toEqual([
      { file: 'docs/guide.md', line: 6, target: 'missing.md', kind: 'missing-file' },
      { file: 'docs/guide.md', line: 7, target: 'tokens.md#no-such-heading', kind: 'missing-anchor' },
      { file: 'docs/guide.md', line: 7, target: '#nowhere', kind: 'missing-anchor' },
      { file: 'docs/guide.md', line: 8, target: '../test/demo/quickstart.e2e-spec.ts', kind: 'not-shipped' },
      { file: 'docs/guide.md', line: 8, target: '../src/index.ts', kind: 'not-shipped' },
      { file: 'docs/guide.md', line: 9, target: '../../shared/TOOLCHAIN.md', kind: 'outside-repo' },
      { file: 'docs/guide.md', line: 10, target: 'http://example.com/', kind: 'not-https' },
      { file: 'docs/guide.md', line: 10, target: '/docs/tokens.md', kind: 'absolute-path' },
      { file: 'docs/guide.md', line: 15, target: '../bench/README.md', kind: 'not-shipped' },
    ]);
  });

  it('resolves links from the README at the root the same way', () => {
    const readme =
      '[a](docs/tokens.md) [b](test/demo/quickstart.e2e-spec.ts) [c](../shared/x.md) [d](LICENSE)';
    expect(linkProblems('README.md', readme, lookup).map((p) => [p.target, p.kind])).toEqual([
      ['test/demo/quickstart.e2e-spec.ts', 'not-shipped'],
      ['../shared/x.md', 'outside-repo'],
      ['LICENSE', 'missing-file'],
    ]);
  });

  it('makes anchors the way GitHub does', () => {
    expect(githubSlug('Idempotent endpoints (`Idempotency-Key`)')).toBe(
      'idempotent-endpoints-idempotency-key',
    );
    expect(githubSlug('Options (`idempotency: { … }` in `forRoot`)')).toBe(
      'options-idempotency----in-forroot',
    );
    expect(githubSlug('SecurityContext, and why it is fast')).toBe('securitycontext-and-why-it-is-fast');
    expect(githubSlug('Behind nginx (or Apache, Envoy, HAProxy, an AWS ALB, an RFC 9440 proxy)')).toBe(
      'behind-nginx-or-apache-envoy-haproxy-an-aws-alb-an-rfc-9440-proxy',
    );
    expect([...anchorsOf('# A\n## Notes\n```\n# not a heading\n```\n## Notes\n<a id="here"></a>\n')]).toEqual(
      ['a', 'notes', 'notes-1', 'here'],
    );
  });
});
