import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { KeypairStrategy } from '../guards/keypair-strategy';
import type { StrategyEntry } from '../guards/passport-registry';
import type { AuthRequest } from '../http/auth-request';
import {
  ClientCertificateAuthenticator,
  ClientCertificateRequest,
  TlsPeer,
} from './client-certificate.authenticator';

export const KEYPAIR_CLIENT_CERTIFICATE_STRATEGY = 'keypair-client-certificate';

const MAX_PEER_CHAIN = 10;

/**
 * The guard asks this entry first: a request carrying certificate headers (or,
 * with `source: 'tls'`, a peer certificate) is decided by the certificate rules.
 */
export function clientCertificateEntry(authenticator: ClientCertificateAuthenticator): StrategyEntry {
  return {
    name: KEYPAIR_CLIENT_CERTIFICATE_STRATEGY,
    claims: (request) => authenticator.claims(toCertificateRequest(request, authenticator)),
    challenge: 'ClientCertificate realm="keypair-auth"',
  };
}

/** The request as the authenticator sees it: headers, the TCP peer, and the TLS peer when this app terminates TLS. */
export function toCertificateRequest(
  request: AuthRequest,
  authenticator: ClientCertificateAuthenticator,
): ClientCertificateRequest {
  const { source, trustAnchors } = authenticator.options;
  return {
    rawHeaders: request.rawHeaders,
    remoteAddress: request.remoteAddress,
    tls: source === 'tls' ? tlsPeer(request.socket as TLSSocket | undefined, trustAnchors !== null) : null,
  };
}

/** One read per connection: the peer certificate does not change between requests on it. */
const peers = new WeakMap<TLSSocket, { withChain: boolean; peer: TlsPeer }>();

/**
 * Reads the peer certificate of a TLS socket (null when the socket is not TLS),
 * once per connection (getPeerCertificate(true) costs about 0.3 ms). With
 * `withChain`, the leaf and the chain both come from getPeerCertificate(true),
 * and getPeerX509Certificate() is never called: on Node 20, once it has been
 * called on a socket, getPeerCertificate(true) no longer links the issuers the
 * client sent. A client that renegotiates (TLS 1.2) keeps the identity it first
 * proved on that connection; revocation is still checked on every request.
 */
export function tlsPeer(socket: TLSSocket | undefined, withChain = false): TlsPeer | null {
  if (!socket || socket.encrypted !== true || typeof socket.getPeerCertificate !== 'function') return null;
  const cached = peers.get(socket);
  if (cached !== undefined && cached.withChain === withChain) return cached.peer;
  const error = socket.authorizationError as unknown;
  const server = (socket as TLSSocket & { server?: { ca?: unknown } }).server;
  const base = {
    authorized: socket.authorized === true,
    serverVerifies: server === undefined || server === null || server.ca != null,
    authorizationError: error == null ? null : String((error as { code?: string }).code ?? error),
  };
  let peer: TlsPeer;
  if (!withChain) {
    peer = { ...base, leaf: socket.getPeerX509Certificate() ?? null, chain: () => [] };
  } else {
    const detailed = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined;
    const leaf = detailed?.raw ? toX509(detailed.raw) : null;
    const chain = detailed && leaf ? issuerChain(detailed) : [];
    peer = { ...base, leaf, chain: () => chain };
  }
  peers.set(socket, { withChain, peer });
  return peer;
}

function toX509(der: Buffer): X509Certificate | null {
  try {
    return new X509Certificate(der);
  } catch {
    return null;
  }
}

/** The certificates after the leaf, following issuerCertificate, stopping at a self-issued one or a loop. */
function issuerChain(leaf: DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<DetailedPeerCertificate>([leaf]);
  let next: DetailedPeerCertificate | undefined = leaf.issuerCertificate;
  while (next && !seen.has(next) && next.raw && chain.length < MAX_PEER_CHAIN) {
    const cert = toX509(next.raw);
    if (cert === null) break;
    chain.push(cert);
    seen.add(next);
    next = next.issuerCertificate;
  }
  return chain;
}

/**
 * Passport strategy (`keypair-client-certificate`) for client certificates,
 * forwarded by a trusted proxy or presented to this app's own TLS server.
 * Thin: it adapts the request and hands over to the authenticator.
 */
export class ClientCertificateStrategy extends KeypairStrategy {
  constructor(authenticator: ClientCertificateAuthenticator) {
    super((request) => authenticator.authenticate(toCertificateRequest(request, authenticator)));
  }
}
