import { posix } from 'node:path';

/**
 * The link rules of README.md and docs/*.md. The package ships the README, LICENSE, docs/ and
 * examples/ next to dist/, so a relative link may only point into those (and must resolve, with
 * its #anchor when it has one); anything else is an absolute https URL. Files that are not
 * shipped (test/, src/, bench/, demo/, …) are named in code spans, never linked.
 */
export const SHIPPED = ['README.md', 'LICENSE', 'docs/', 'examples/'];

export type LinkProblemKind =
  'missing-file' | 'missing-anchor' | 'not-shipped' | 'outside-repo' | 'not-https' | 'absolute-path';

export interface LinkProblem {
  file: string;
  line: number;
  target: string;
  kind: LinkProblemKind;
}

/**
 * What the checker may know about the repository: the text of a Markdown file, '' for any other
 * existing file or folder, undefined for a path that does not exist. Paths are repo-relative.
 */
export type RepoLookup = (path: string) => string | undefined;

/** GitHub's heading anchor: the rendered text, lowercased, punctuation dropped but `-` and `_`, spaces → `-`. */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link renders as its text
    .replace(/<[^>]+>/g, '') // inline HTML renders as nothing here
    .replace(/[`*~]/g, '') // code and emphasis markers
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** Every line of `markdown` outside fenced code blocks, with inline code spans blanked out. */
function proseLines(markdown: string): { text: string; line: number }[] {
  const lines: { text: string; line: number }[] = [];
  let fence: string | null = null;
  markdown.split('\n').forEach((raw, index) => {
    const opener = /^\s{0,3}(`{3,}|~{3,})/.exec(raw)?.[1];
    if (fence !== null) {
      if (opener !== undefined && opener[0] === fence[0] && opener.length >= fence.length) fence = null;
      return;
    }
    if (opener !== undefined) {
      fence = opener;
      return;
    }
    lines.push({ text: raw.replace(/(`+)[^`]*?\1/g, ''), line: index + 1 });
  });
  return lines;
}

/** The anchors of a Markdown text: one per heading, GitHub-style (`-1`, `-2` for repeats), plus HTML ids. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | null = null;
  for (const raw of markdown.split('\n')) {
    const opener = /^\s{0,3}(`{3,}|~{3,})/.exec(raw)?.[1];
    if (fence !== null) {
      if (opener !== undefined && opener[0] === fence[0] && opener.length >= fence.length) fence = null;
      continue;
    }
    if (opener !== undefined) {
      fence = opener;
      continue;
    }
    for (const [, id] of raw.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id);
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw)?.[1];
    if (heading === undefined) continue;
    const slug = githubSlug(heading);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** The link targets of a Markdown text: inline links and images, and reference definitions. */
export function linksOf(markdown: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = [];
  for (const { text, line } of proseLines(markdown)) {
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+["'(][^)]*)?\)/g))
      links.push({ target: m[1], line });
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(text);
    if (definition) links.push({ target: definition[1], line });
  }
  return links;
}

/**
 * The problems of the links in `file` (repo-relative, e.g. `docs/tokens.md`), whose text is
 * `markdown`, against the repository that `lookup` describes.
 */
export function linkProblems(file: string, markdown: string, lookup: RepoLookup): LinkProblem[] {
  const problems: LinkProblem[] = [];
  for (const { target, line } of linksOf(markdown)) {
    const problem = (kind: LinkProblemKind) => problems.push({ file, line, target, kind });
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(target)?.[1];
    if (scheme !== undefined) {
      if (scheme.toLowerCase() !== 'https') problem('not-https');
      continue;
    }
    if (target.startsWith('/')) {
      problem('absolute-path');
      continue;
    }
    const hash = target.indexOf('#');
    const pathPart = decodeURI(hash < 0 ? target : target.slice(0, hash));
    const anchor = hash < 0 ? undefined : target.slice(hash + 1);
    const resolved = pathPart === '' ? file : posix.normalize(posix.join(posix.dirname(file), pathPart));
    if (resolved === '..' || resolved.startsWith('../')) {
      problem('outside-repo');
      continue;
    }
    const shipped = SHIPPED.some((entry) =>
      entry.endsWith('/') ? resolved.startsWith(entry) || `${resolved}/` === entry : resolved === entry,
    );
    if (!shipped) {
      problem('not-shipped');
      continue;
    }
    const text = pathPart === '' ? markdown : lookup(resolved.replace(/\/$/, ''));
    if (text === undefined) {
      problem('missing-file');
      continue;
    }
    if (anchor !== undefined && !anchorsOf(text).has(anchor)) problem('missing-anchor');
  }
  return problems;
}
