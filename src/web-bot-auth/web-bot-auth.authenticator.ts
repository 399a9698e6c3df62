import { hash } from 'node:crypto';
import { SecurityContext, type WebBotAuthAgent } from '../context/security-context';
import { authError } from '../errors/keypair-auth.exception';
import type { AuthRequest } from '../http/auth-request';
import {
  buildSignatureBase,
  DigestAlgorithm,
  getFieldLines,
  HttpMessageView,
  parseRfc9421,
  Rfc9421Signature,
} from '../http-signatures';
import { coverageName } from '../http-signatures/rfc9421/component-identifier';
import { isKeyAlgorithm, verifyWithAlgorithm } from '../keys/key-algorithm';
import type { KeyRegistry } from '../keys/key-registry';
import { RequestAddress, signedRequestView } from '../signature-strategy/http-signature.authenticator';
import { core } from '../signature-strategy/signature-errors';
import { checkSignedDigest, signedBody } from '../signature-strategy/signed-body';
import type { ReplayStore } from '../stores/replay-store.interface';
import type { AgentAllowlist } from './agent-allowlist';
import type { AgentKeySource, DirectoryKey } from './directory-key';
import { attributedAgentOrigin } from './signature-agent';
import { WEB_BOT_AUTH_TAG } from './web-bot-auth-options';

export interface WebBotAuthSettings {
  readonly clockSkewMs: number;
  /** Longest `expires - created`. */
  readonly maxLifetimeMs: number;
  readonly requireNonce: boolean;
  readonly maxBodyBytes: number;
  readonly digestAlgorithms: readonly DigestAlgorithm[];
  /** httpSignature.requiredComponents: what every signature must also cover. */
  readonly requiredComponents: readonly string[];
}

/** The tag parameter as it appears in a Signature-Input (a keyid named "web-bot-auth-1" is not it). */
const TAG_PARAMETER = `tag="${WEB_BOT_AUTH_TAG}"`;

/** Longest nonce claimed: Cloudflare's 64 random bytes are 88 base64 characters. */
const MAX_NONCE_LENGTH = 256;

/** An RFC 7638 SHA-256 thumbprint: 32 bytes, base64url without padding. */
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

/**
 * Verifies Web Bot Auth requests (draft-ietf-webbotauth-httpsig-protocol-01): an RFC 9421
 * signature tagged `web-bot-auth`, by a key the agent named in Signature-Agent publishes
 * in its directory. Everything that needs no network runs first (the profile, the
 * coverage, the allowlist, the signature base), so a stranger's request costs no fetch
 * unless it names an allowed agent; the directory key is looked up by (agent origin,
 * thumbprint), the signature verified, and its nonce (or its signed content) claimed last.
 */
export class WebBotAuthAuthenticator {
  constructor(
    private readonly directories: AgentKeySource,
    private readonly allowlist: AgentAllowlist,
    private readonly registry: KeyRegistry,
    private readonly replayStore: ReplayStore,
    private readonly settings: WebBotAuthSettings,
  ) {}

  /**
   * True when a request speaks Web Bot Auth: it has a Signature-Agent header, or a
   * Signature-Input with the parameter tag="web-bot-auth". Cheap: no parsing.
   */
  static claims(rawHeaders: readonly string[]): boolean {
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const n = rawHeaders[i].length;
      if (n !== 15) continue;
      const lower = rawHeaders[i].toLowerCase();
      if (lower === 'signature-agent') return true;
      if (lower === 'signature-input' && rawHeaders[i + 1].includes(TAG_PARAMETER)) return true;
    }
    return false;
  }

  async authenticate(
    request: AuthRequest,
    address: RequestAddress,
    now = Date.now(),
  ): Promise<SecurityContext> {
    const view = signedRequestView(request, address);
    const body = signedBody(request, this.settings.maxBodyBytes);
    const entry = this.webBotAuthSignature(view);
    const { params } = entry;
    const covered = new Set<string>();
    for (const c of entry.components) covered.add(coverageName(c));

    const expiresMs = this.checkWindow(params.created, params.expires, now);
    if (!covered.has('@authority') && !covered.has('@target-uri')) {
      throw authError(
        'SIGNATURE_COVERAGE_INSUFFICIENT',
        'web-bot-auth signature covers neither @authority nor @target-uri',
      );
    }
    // What the operator requires of every signature (httpSignature.requiredComponents) holds here too.
    const missing = this.settings.requiredComponents.filter((c) => !covered.has(c));
    if (missing.length > 0) {
      throw authError(
        'SIGNATURE_COVERAGE_INSUFFICIENT',
        `web-bot-auth signature does not cover ${missing.join(', ')} (httpSignature.requiredComponents)`,
      );
    }
    if (body !== null && !covered.has('content-digest')) {
      throw authError('DIGEST_REQUIRED', 'body without a covered content-digest');
    }
    // An empty nonce names no nonce: it would pass requireNonce and then be every request's one claim.
    if (params.nonce !== undefined && (params.nonce.length === 0 || params.nonce.length > MAX_NONCE_LENGTH)) {
      throw authError(
        'MALFORMED_CREDENTIALS',
        `nonce of ${params.nonce.length} characters (1 to ${MAX_NONCE_LENGTH})`,
      );
    }
    if (this.settings.requireNonce && params.nonce === undefined) {
      throw authError(
        'SIGNATURE_COVERAGE_INSUFFICIENT',
        'webBotAuth.requireNonce: the signature has no nonce',
      );
    }
    const keyid = params.keyid;
    if (typeof keyid !== 'string' || !THUMBPRINT.test(keyid)) {
      throw authError('MALFORMED_CREDENTIALS', 'keyid is not an RFC 7638 SHA-256 thumbprint');
    }
    if (params.alg !== undefined && !isKeyAlgorithm(params.alg)) {
      throw authError('ALGORITHM_NOT_ALLOWED', `alg ${JSON.stringify(params.alg.slice(0, 30))}`);
    }
    const origin = attributedAgentOrigin(view, entry);
    const agent = this.allowlist.match(origin);
    if (!agent)
      throw authError('WEB_BOT_AUTH_AGENT_NOT_ALLOWED', `agent ${origin} is not in webBotAuth.agents`);
    // The base before the key: a covered component missing answers alike for every agent and key.
    const base = core(() => buildSignatureBase(view, entry));

    const found = this.directories.key(origin, keyid, now, agent.admitNewHost);
    const key: DirectoryKey = found instanceof Promise ? await found : found;
    if (params.alg !== undefined && params.alg !== key.algorithm) {
      throw authError(
        'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
        `alg ${params.alg} differs from ${origin}'s key ${keyid}`,
      );
    }
    if (!verifyWithAlgorithm(key.algorithm, key.keyObject, base, entry.signature)) {
      throw authError(
        'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
        `signature of ${origin} key ${keyid} does not verify`,
      );
    }
    if (covered.has('content-digest')) {
      checkSignedDigest(view, body, 'content-digest', this.settings.digestAlgorithms);
    }
    const user = await this.registry.findUserByUsername(agent.username);
    if (!user) {
      throw authError(
        'AUTHENTICATION_FAILED',
        `webBotAuth.agents maps ${agent.pattern} to account ${agent.username}, which does not exist: create it`,
      );
    }
    if (!user.active) throw authError('USER_INACTIVE', `user ${user.username} (agent ${origin}) inactive`);

    // Single-use like every signature here: the nonce, or without one the signed content,
    // until the signature could no longer be accepted (expires + skew), plus a second. Scoped
    // by key alone: a key two agents publish spends its nonce once, whichever agent it names.
    const ttl = Math.ceil(expiresMs + this.settings.clockSkewMs - now) + 1000;
    const fresh =
      params.nonce !== undefined
        ? await this.replayStore.claim(`wba-nonce:${keyid}`, params.nonce, ttl)
        : await this.replayStore.claim(`wba:${keyid}`, hash('sha256', base, 'base64url'), ttl);
    if (!fresh)
      throw authError(
        'REPLAYED',
        `${params.nonce !== undefined ? 'nonce' : 'signed content'} reused by ${origin}`,
      );
    return new SecurityContext(user, keyid, 'web-bot-auth', agent.roles, null, { origin, thumbprint: keyid });
  }

  /**
   * For a connection the agent opened: throws the refusal a new request would get once its
   * key has left the agent's directory (or the directory is unusable past its stale window).
   * Served from the directory cache; a directory past its freshness is refreshed as for a request.
   */
  async assertAgentKey(agent: WebBotAuthAgent, now = Date.now()): Promise<void> {
    const allowed = this.allowlist.match(agent.origin);
    if (!allowed)
      throw authError('WEB_BOT_AUTH_AGENT_NOT_ALLOWED', `agent ${agent.origin} is not in webBotAuth.agents`);
    const key = this.directories.key(agent.origin, agent.thumbprint, now, allowed.admitNewHost);
    if (key instanceof Promise) await key;
  }

  /** The one signature tagged web-bot-auth: none, or several, is WEB_BOT_AUTH_TAG_INVALID. */
  private webBotAuthSignature(view: HttpMessageView): Rfc9421Signature {
    if (getFieldLines(view, 'signature-input') === undefined) {
      throw authError('WEB_BOT_AUTH_TAG_INVALID', 'Signature-Agent without a Signature-Input');
    }
    const tagged = core(() => parseRfc9421(view)).filter((s) => s.params.tag === WEB_BOT_AUTH_TAG);
    if (tagged.length !== 1) {
      throw authError('WEB_BOT_AUTH_TAG_INVALID', `${tagged.length} signatures tagged web-bot-auth`);
    }
    return tagged[0];
  }

  /** created and expires are both required; returns expires in ms. */
  private checkWindow(created: number | undefined, expires: number | undefined, now: number): number {
    if (typeof created !== 'number' || typeof expires !== 'number') {
      throw authError('MALFORMED_CREDENTIALS', 'a web-bot-auth signature needs both created and expires');
    }
    const createdMs = created * 1000;
    const expiresMs = expires * 1000;
    // A NaN or infinity compares false with everything: refuse it before the comparisons.
    if (!Number.isFinite(createdMs) || !Number.isFinite(expiresMs)) {
      throw authError('MALFORMED_CREDENTIALS', 'created or expires is not a valid time');
    }
    const skew = this.settings.clockSkewMs;
    if (createdMs > now + skew) {
      throw authError('TOKEN_NOT_YET_VALID', `created ${Math.round((createdMs - now) / 1000)} s ahead`);
    }
    if (expiresMs < now - skew) throw authError('TOKEN_EXPIRED', 'expires has passed');
    if (expiresMs <= createdMs) throw authError('MALFORMED_CREDENTIALS', 'expires is not after created');
    if (expiresMs - createdMs > this.settings.maxLifetimeMs) {
      throw authError(
        'TOKEN_LIFETIME_TOO_LONG',
        `expires - created = ${Math.round((expiresMs - createdMs) / 1000)} s > webBotAuth.maxLifetimeSeconds`,
      );
    }
    return expiresMs;
  }
}
