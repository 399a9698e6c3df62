import { KeypairStrategy } from '../guards/keypair-strategy';
import type { StrategyEntry } from '../guards/passport-registry';
import type { AuthRequest } from '../http/auth-request';
import { requestOrigin } from '../http/request-origin';
import { HttpSignatureAuthenticator, RequestAddress } from './http-signature.authenticator';
import { SignaturePolicy, SignaturePolicyOverride, tightenPolicy } from './signature-policy';

export const KEYPAIR_HTTP_SIGNATURE_STRATEGY = 'keypair-http-signature';

/** Where the guard leaves a route's @RequireSignature() for the strategy to read. */
export const ROUTE_SIGNATURE_POLICY = Symbol('keypair-auth:route-signature-policy');

/** The guard routes requests with Signature-Input, Signature, or `Authorization: Signature` here. */
export const httpSignatureEntry: StrategyEntry = {
  name: KEYPAIR_HTTP_SIGNATURE_STRATEGY,
  claims: (request) => HttpSignatureAuthenticator.carriesSignature(request.rawHeaders),
  challenge: 'Signature realm="keypair-auth",headers="(request-target) host date digest"',
  headers: {
    // RFC 9421 §5.1: what a signature must cover here.
    'Accept-Signature': 'sig1=("@method" "@authority" "@path" "@query" "content-digest");created;keyid;nonce',
  },
};

/**
 * Passport strategy (`keypair-http-signature`) for RFC 9421 and draft-cavage-12
 * signed requests. Thin: builds the request address and policy, then hands over.
 */
export class HttpSignatureStrategy extends KeypairStrategy {
  constructor(
    authenticator: HttpSignatureAuthenticator,
    configuredOrigin: string | null,
    policy: SignaturePolicy,
  ) {
    const addressOfRequest = requestAddresses(configuredOrigin);
    super((request, req) => {
      const address = addressOfRequest(request);
      const route = (req as { [ROUTE_SIGNATURE_POLICY]?: SignaturePolicyOverride })[ROUTE_SIGNATURE_POLICY];
      return authenticator.authenticate(request, address, route ? tightenPolicy(policy, route) : policy);
    });
  }
}

/**
 * Where requests were addressed, for checking what a signature covers: the configured
 * origin, parsed once; otherwise each request's connection and Host header.
 */
export function requestAddresses(configuredOrigin: string | null): (request: AuthRequest) => RequestAddress {
  if (configuredOrigin) {
    const fixed = { ...addressOf(configuredOrigin), configured: true };
    return () => fixed;
  }
  const seen = new Map<string, RequestAddress>();
  return (request) => seenAddress(seen, requestOrigin(request, null));
}

const MAX_SEEN_ORIGINS = 64;

/**
 * The parsed address of an origin seen before (a server answers to a few hosts),
 * so that URL parsing is not on every request. Bounded: a client sending random
 * Host headers empties it rather than growing it.
 */
function seenAddress(seen: Map<string, RequestAddress>, origin: string): RequestAddress {
  let address = seen.get(origin);
  if (address === undefined) {
    address = addressOf(origin);
    if (seen.size >= MAX_SEEN_ORIGINS) seen.clear();
    seen.set(origin, address);
  }
  return address;
}

function addressOf(origin: string): RequestAddress {
  const url = new URL(origin);
  return { scheme: url.protocol.slice(0, -1), authority: url.host };
}
