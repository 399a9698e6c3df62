import { isInnerList, parseDictionary, parseItem, type Item } from 'structured-headers';
import { authError } from '../errors/keypair-auth.exception';
import { getFieldValue, HttpMessageView } from '../http-signatures';
import type { CoveredComponent, Rfc9421Signature } from '../http-signatures/rfc9421/rfc9421.types';
import { DIRECTORY_PATH } from './web-bot-auth-options';

const FIELD = 'signature-agent';

/**
 * The origin of the agent a `web-bot-auth` signature speaks for: the Signature-Agent
 * member the signature covers (draft-ietf-webbotauth-httpsig-protocol-01 §"Signature-Agent").
 * Never a member it does not cover: an intermediary could add or swap those.
 *
 * - `"signature-agent";key="x"` covers member `x` of the dictionary form.
 * - `"signature-agent"` (or `;sf`) covers the whole field: the legacy single string
 *   (`Signature-Agent: "https://…"`, what web-bot-auth 0.1.3 and earlier drafts send), or a
 *   dictionary with one member. Not a dictionary of several: the signature's label would
 *   have to choose, and the label is not signed.
 *
 * The value must be an https origin or that origin's well-known directory URL; another
 * path (a JWKS elsewhere, which -01 allows) is refused: TLS authenticates the host, not
 * the path, and only the well-known URI names the domain's operator. Throws
 * WEB_BOT_AUTH_AGENT_NOT_COVERED or WEB_BOT_AUTH_AGENT_INVALID.
 */
export function attributedAgentOrigin(view: HttpMessageView, signature: Rfc9421Signature): string {
  const coverage: CoveredComponent[] = [];
  for (const c of signature.components) {
    if (c.name === FIELD && isAttributingCoverage(c)) coverage.push(c);
  }
  const raw = getFieldValue(view, FIELD);
  if (raw === undefined) {
    throw authError(
      'WEB_BOT_AUTH_AGENT_INVALID',
      'no Signature-Agent header: a web-bot-auth request names its agent there',
    );
  }
  if (coverage.length === 0) {
    throw authError(
      'WEB_BOT_AUTH_AGENT_NOT_COVERED',
      `signature ${signature.label} does not cover Signature-Agent`,
    );
  }
  if (coverage.length > 1) {
    throw authError(
      'WEB_BOT_AUTH_AGENT_INVALID',
      `signature ${signature.label} covers Signature-Agent ${coverage.length} times; chained agents are not supported`,
    );
  }
  const members = parseSignatureAgent(raw);
  const key = coverage[0].params.key;
  let value: string | undefined;
  if (key !== undefined) {
    if (members instanceof Map) value = members.get(key);
  } else if (typeof members === 'string') {
    value = members;
  } else if (members.size === 1) {
    // The whole field, with one member: that member. With several, the label could choose one,
    // and the label is not signed (anyone relaying the request may rename it): refused below.
    value = members.values().next().value;
  }
  if (value === undefined) {
    throw authError(
      'WEB_BOT_AUTH_AGENT_INVALID',
      `Signature-Agent has no usable member for signature ${signature.label}${key === undefined ? ' (the whole field is covered: it must have one member, or cover one with ;key=)' : ` (key ${JSON.stringify(key)})`}`,
    );
  }
  return agentOrigin(value);
}

/** Whole-field coverage (no parameter, or `;sf`) or one member (`;key` alone). */
function isAttributingCoverage(c: CoveredComponent): boolean {
  const { key, sf, bs, req, name } = c.params;
  if (bs || req || name !== undefined) return false;
  return key === undefined || !sf;
}

/**
 * The field as a single string (legacy form) or its dictionary members that are strings
 * without parameters; a member with parameters is ignored, as the draft requires.
 */
function parseSignatureAgent(raw: string): string | Map<string, string> {
  try {
    if (raw.trimStart().startsWith('"')) {
      const [bare, params] = parseItem(raw);
      if (typeof bare === 'string' && params.size === 0) return bare;
    } else {
      const out = new Map<string, string>();
      for (const [k, member] of parseDictionary(raw)) {
        if (isInnerList(member)) continue;
        const [bare, params] = member as Item;
        if (typeof bare === 'string' && params.size === 0) out.set(k, bare);
      }
      return out;
    }
  } catch {
    // answered below
  }
  throw authError(
    'WEB_BOT_AUTH_AGENT_INVALID',
    `Signature-Agent ${JSON.stringify(raw.slice(0, 100))} is not a string or a dictionary of strings`,
  );
}

/** The normalized origin of an agent URL: https, an origin or its well-known directory URL. */
export function agentOrigin(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (
    !url ||
    url.protocol !== 'https:' ||
    url.username !== '' ||
    url.password !== '' ||
    url.search !== '' ||
    url.hash !== '' ||
    /[?#]/.test(value) ||
    // Parsed strictly: exactly the origin (with or without its `/`) or its directory URL, as
    // the agent wrote it. WHATWG URL normalizes dot segments, `%2e`, backslashes and case,
    // and nothing a client sends should reach the allowlist through such a rewrite.
    (value !== url.origin && value !== `${url.origin}/` && value !== `${url.origin}${DIRECTORY_PATH}`)
  ) {
    throw authError(
      'WEB_BOT_AUTH_AGENT_INVALID',
      `Signature-Agent ${JSON.stringify(value.slice(0, 100))} is not an https origin or its ${DIRECTORY_PATH}`,
    );
  }
  return url.origin;
}
