import { CliError } from './cli-error';
import { redactUrl } from '../client/redact-url';

/** Why a request never got an answer, in words, from the cause's code. */
function describeCause(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause ?? error;
  const code = (cause as { code?: string }).code;
  const message = (cause as { message?: string }).message ?? String(cause);
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED) — is the server running?';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host not found (${code}) — check the host name`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
      return `timed out (${code}) — is the address right, and is a firewall in the way?`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `the server closed the connection (${code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to the host (${code})`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `the server's TLS certificate is not trusted (${code}) — set NODE_EXTRA_CA_CERTS to your CA bundle`;
    case 'CERT_HAS_EXPIRED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the server's TLS certificate does not fit (${code}): ${message}`;
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return `TLS failed (${code}) — is it an http:// server addressed as https://?`;
    default:
      return code ? `${message} (${code})` : message;
  }
}

function urlOf(input: string | URL | Request): string {
  return input instanceof Request ? input.url : String(input);
}

/**
 * The global fetch, except that a request that gets no answer at all rejects with a
 * CliError naming the URL and the cause ("could not reach http://…/auth/token:
 * connection refused (ECONNREFUSED) — is the server running?") instead of "fetch failed".
 */
export const reportingFetch: typeof fetch = async (input, init) => {
  try {
    return await fetch(input, init);
  } catch (error) {
    if (error instanceof Error && error.name === 'TypeError' && error.message === 'fetch failed')
      throw new CliError(`could not reach ${redactUrl(urlOf(input))}: ${describeCause(error)}`);
    throw error;
  }
};
