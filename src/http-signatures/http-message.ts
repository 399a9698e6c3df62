/**
 * The part of an HTTP message that signatures are computed over. The server builds
 * it from the incoming request (scheme and authority from configuration, never from
 * X-Forwarded-*), the client from the request it is about to send.
 */
export interface HttpMessageView {
  /** Request method as sent (case-sensitive). */
  method?: string;
  /** 'https' | 'http'. */
  scheme?: string;
  /** host[:port], from configuration or the Host header. */
  authority?: string;
  /** The request-target as sent, normally origin-form "/path?query". */
  target?: string;
  /** Response status code; its presence makes the view a response. */
  status?: number;
  /** Node-style [name, value, name, value, ...], duplicates and order kept. Must not be mutated after use. */
  rawHeaders: readonly string[];
}

interface FieldEntry {
  readonly lines: string[];
  value: string | undefined;
}

interface ParsedFields {
  readonly rawHeaders: readonly string[];
  readonly length: number;
  readonly map: Map<string, FieldEntry>;
}

/*
 * The parser, the base builder and the digest check all read the same message
 * one after the other, so the lowercase map is kept for the few most recent
 * rawHeaders arrays, matched by identity and length (a signer may append to
 * the array between calls). A small ring rather than a WeakMap: WeakMap
 * entries cost more to create and to collect than parsing a dozen headers.
 */
const RING_SIZE = 4;
const ring: (ParsedFields | undefined)[] = new Array<ParsedFields | undefined>(RING_SIZE).fill(undefined);
let ringNext = 0;

// tchar lookup: 1 = allowed, 2 = allowed and uppercase.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') TCHAR[c.charCodeAt(0)] = 2;

/** The lowercase form of a token field name, or undefined when the name is not a token. */
function fieldKey(name: string): string | undefined {
  if (name.length === 0) return undefined;
  let upper = false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const kind = c < 128 ? TCHAR[c] : 0;
    if (kind === 0) return undefined;
    if (kind === 2) upper = true;
  }
  return upper ? name.toLowerCase() : name;
}

function parseFields(rawHeaders: readonly string[]): ParsedFields {
  for (const cached of ring) {
    if (cached !== undefined && cached.rawHeaders === rawHeaders && cached.length === rawHeaders?.length) {
      return cached;
    }
  }
  const map = new Map<string, FieldEntry>();
  const length = Array.isArray(rawHeaders) ? rawHeaders.length : 0;
  for (let i = 0; i + 1 < length; i += 2) {
    const name = rawHeaders[i];
    const value = rawHeaders[i + 1];
    if (typeof name !== 'string' || typeof value !== 'string') continue;
    // Names that are not tokens (HTTP/2 pseudo-headers, garbage) can never be covered.
    const key = fieldKey(name);
    if (key === undefined) continue;
    const entry = map.get(key);
    if (entry === undefined) map.set(key, { lines: [value], value: undefined });
    else entry.lines.push(value);
  }
  const parsed = { rawHeaders, length, map };
  ring[ringNext] = parsed;
  ringNext = (ringNext + 1) % RING_SIZE;
  return parsed;
}

/** The raw field lines of one field (lowercase name), in order, or undefined when absent. */
export function getFieldLines(view: HttpMessageView, name: string): readonly string[] | undefined {
  return parseFields(view.rawHeaders).map.get(name)?.lines;
}

/**
 * The combined field value (RFC 9421 §2.1, also used by Cavage): every line with
 * obs-fold collapsed and surrounding whitespace trimmed, joined with ", ".
 * Undefined when the field is absent.
 */
export function getFieldValue(view: HttpMessageView, name: string): string | undefined {
  const entry = parseFields(view.rawHeaders).map.get(name);
  if (entry === undefined) return undefined;
  if (entry.value === undefined) {
    const { lines } = entry;
    let value = normalizeFieldLine(lines[0]);
    for (let i = 1; i < lines.length; i++) value += ', ' + normalizeFieldLine(lines[i]);
    entry.value = value;
  }
  return entry.value;
}

/** Sum of the lengths of a field's lines; lets callers enforce a size limit before joining. */
export function getFieldLength(view: HttpMessageView, name: string): number {
  const lines = getFieldLines(view, name);
  if (lines === undefined) return 0;
  let total = 0;
  for (const line of lines) total += line.length + 2;
  return total - 2;
}

/** Trims SP/HTAB (only those: String.trim would also eat NBSP and other Unicode spaces). */
export function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/** One field line: obs-fold (OWS CRLF 1*(SP/HTAB)) replaced by one SP, then trimmed. */
export function normalizeFieldLine(line: string): string {
  if (line.indexOf('\n') === -1) return trimOws(line);
  return trimOws(collapseObsFold(line));
}

// A loop instead of a regular expression: /[ \t]*\r?\n[ \t]+/ backtracks quadratically on long blank runs.
function collapseObsFold(line: string): string {
  let out = '';
  let i = 0;
  const n = line.length;
  while (i < n) {
    const lf = line.indexOf('\n', i);
    if (lf === -1) {
      out += line.slice(i);
      break;
    }
    const next = lf + 1 < n ? line.charCodeAt(lf + 1) : -1;
    if (next !== 0x20 && next !== 0x09) {
      // A bare LF is not a fold; keep it so the base builder refuses the value.
      out += line.slice(i, lf + 1);
      i = lf + 1;
      continue;
    }
    let before = lf;
    if (before > i && line.charCodeAt(before - 1) === 0x0d) before--;
    while (before > i && isOws(line.charCodeAt(before - 1))) before--;
    let after = lf + 1;
    while (after < n && isOws(line.charCodeAt(after))) after++;
    out += line.slice(i, before) + ' ';
    i = after;
  }
  return out;
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** True for a response view. */
export function isResponse(view: HttpMessageView): boolean {
  return view.status !== undefined;
}
