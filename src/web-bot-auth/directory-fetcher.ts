import { lookup as dnsLookup } from 'node:dns/promises';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { authError, KeypairAuthException } from '../errors/keypair-auth.exception';
import { checkDirectoryAddress } from './directory-address';
import { DIRECTORY_MEDIA_TYPE, DIRECTORY_PATH, type ResolvedDirectoryOptions } from './web-bot-auth-options';

/** One directory response, read in full and within bounds; not yet parsed. */
export interface FetchedDirectory {
  readonly body: Buffer;
  /** The response headers as Node gives them: [name, value, name, value, …]. */
  readonly rawHeaders: string[];
  readonly cacheControl: string | undefined;
  /** When the response was complete (ms since the epoch). */
  readonly fetchedAt: number;
  /** host[:port] of the URL fetched: what a directory signature's "@authority";req names. */
  readonly authority: string;
}

/** An address a host resolved to, as node:dns gives it. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Resolves a host name to all its addresses; node:dns lookup by default (tests may pass another). */
export type DirectoryResolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

const systemResolver: DirectoryResolver = (hostname) => dnsLookup(hostname, { all: true });

/** Checked addresses tried in turn when a connection cannot be made; more would stretch the timeout. */
const MAX_ADDRESSES_TRIED = 4;
/** Response header bytes accepted: room for 16 directory signatures by 8192-bit RSA keys. */
const MAX_HEADER_BYTES = 65_536;
const USER_AGENT = 'nestjs-keypair-auth (Web Bot Auth key directory fetch)';

/** A failure of one connection attempt before the TCP connection stood: the next address may work. */
class ConnectFailure extends Error {}

/**
 * Fetches an agent's key directory, `origin` + /.well-known/http-message-signatures-directory
 * (draft-ietf-webbotauth-httpsig-protocol-01 §"Key Directory"), under the SSRF bounds of
 * docs/SECURITY.md G89–G90:
 * - the host is resolved once and EVERY address it resolves to must be public unicast
 *   (directory-address.ts), else WEB_BOT_AUTH_DIRECTORY_ADDRESS_REFUSED before any connection;
 *   the connection goes to a checked address through the request's `lookup`, so a second
 *   resolution (DNS rebinding) cannot send it elsewhere; TLS still verifies the host name;
 * - one wall-clock timeout covers DNS, connection, TLS, headers and body;
 * - a redirect is never followed (WEB_BOT_AUTH_DIRECTORY_REDIRECT), anything but a 200 of the
 *   directory media type without content coding is WEB_BOT_AUTH_DIRECTORY_INVALID, and a body
 *   over maxBytes is cut off (WEB_BOT_AUTH_DIRECTORY_TOO_LARGE).
 * Network and TLS failures, timeouts and 5xx answers are WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE.
 * Every failure is a KeypairAuthException whose reason (for the log) names the origin.
 */
export function fetchDirectory(
  origin: string,
  options: ResolvedDirectoryOptions,
  resolve: DirectoryResolver = systemResolver,
): Promise<FetchedDirectory> {
  let url: URL;
  try {
    url = new URL(DIRECTORY_PATH, origin);
  } catch {
    return Promise.reject(authError('WEB_BOT_AUTH_DIRECTORY_INVALID', `${origin} is not a URL origin`));
  }
  if (url.protocol !== 'https:' || url.origin !== origin) {
    return Promise.reject(
      authError(
        'WEB_BOT_AUTH_DIRECTORY_INVALID',
        `${origin} is not a normalized https origin (expected ${url.origin}); directories are fetched over https only`,
      ),
    );
  }
  return new Promise<FetchedDirectory>((settle, fail) => {
    const controller = new AbortController();
    let done = false;
    const finish = (error: unknown, result?: FetchedDirectory): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error === undefined && result !== undefined) {
        settle(result);
        return;
      }
      // Stops whatever is still running: the DNS answer is ignored, a socket is destroyed.
      controller.abort();
      fail(
        error instanceof KeypairAuthException
          ? error
          : authError(
              'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE',
              `${url.href}: ${error instanceof Error ? error.message : String(error)}`,
            ),
      );
    };
    const timer = setTimeout(
      () =>
        finish(
          authError(
            'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE',
            `${url.href}: no complete answer within ${options.timeoutMs} ms (directory.timeoutMs covers DNS, ` +
              'connection, TLS and body)',
          ),
        ),
      options.timeoutMs,
    );
    run(url, options, resolve, controller.signal).then(
      (result) => finish(undefined, result),
      (error: unknown) => finish(error),
    );
  });
}

async function run(
  url: URL,
  options: ResolvedDirectoryOptions,
  resolve: DirectoryResolver,
  signal: AbortSignal,
): Promise<FetchedDirectory> {
  // URL keeps IPv6 literals in brackets; node:net wants them bare.
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const literal = isIP(hostname) !== 0;
  let addresses: readonly ResolvedAddress[];
  if (literal) {
    addresses = [{ address: hostname, family: isIP(hostname) }];
  } else {
    try {
      addresses = await resolve(hostname);
    } catch (error) {
      throw authError(
        'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE',
        `${url.href}: ${hostname} does not resolve (${(error as Error).message})`,
      );
    }
    if (addresses.length === 0) {
      throw authError(
        'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE',
        `${url.href}: ${hostname} resolves to no address`,
      );
    }
  }
  // Every address, not just the one used: a host that answers with a public and a private
  // address must not get a second chance at the private one.
  for (const { address } of addresses) {
    const verdict = checkDirectoryAddress(address, options.allowLoopback);
    if (!verdict.allowed) {
      throw authError(
        'WEB_BOT_AUTH_DIRECTORY_ADDRESS_REFUSED',
        `${url.href}: ${literal ? `${address} is` : `${hostname} resolves to ${address},`} a ${verdict.range} ` +
          'address; agent directories are fetched from public unicast addresses only' +
          (verdict.range === 'loopback' ? ' (directory.allowLoopback admits loopback in tests)' : ''),
      );
    }
  }
  const tried = addresses.slice(0, MAX_ADDRESSES_TRIED);
  let lastFailure: Error | undefined;
  for (const target of tried) {
    if (signal.aborted) break;
    try {
      return await attempt(url, hostname, literal, target, options, signal);
    } catch (error) {
      if (!(error instanceof ConnectFailure)) throw error;
      lastFailure = error;
    }
  }
  throw authError(
    'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE',
    `${url.href}: no connection to ${tried.map((a) => a.address).join(', ')} (${lastFailure?.message ?? 'aborted'})`,
  );
}

/** One GET to one checked address. Rejects with ConnectFailure when no TCP connection was made. */
function attempt(
  url: URL,
  hostname: string,
  literal: boolean,
  target: ResolvedAddress,
  options: ResolvedDirectoryOptions,
  signal: AbortSignal,
): Promise<FetchedDirectory> {
  return new Promise<FetchedDirectory>((resolve, reject) => {
    // The request asks for the host name, but its socket goes to `target` only: whatever
    // node:net passes, this answers with the address that was checked.
    const pinned: LookupFunction = (_host, lookupOptions, callback) => {
      if (lookupOptions.all) callback(null, [{ address: target.address, family: target.family }]);
      else callback(null, target.address, target.family);
    };
    let connected = false;
    let finished = false;
    const fail = (error: Error): void => {
      if (finished) return;
      finished = true;
      req.destroy();
      reject(error);
    };
    const refuse = (code: Parameters<typeof authError>[0], what: string): void =>
      fail(authError(code, `${url.href} (${target.address}): ${what}`));

    const req = request({
      protocol: 'https:',
      hostname,
      port: url.port === '' ? 443 : Number(url.port),
      path: DIRECTORY_PATH,
      method: 'GET',
      headers: { Accept: DIRECTORY_MEDIA_TYPE, 'Accept-Encoding': 'identity', 'User-Agent': USER_AGENT },
      // A fresh connection per fetch: no pooled socket to some other address, no shared TLS session.
      agent: false,
      lookup: literal ? undefined : pinned,
      // SNI names the host; RFC 6066 forbids an IP address there.
      servername: literal ? undefined : hostname,
      ca: [...rootCertificates, ...options.ca],
      rejectUnauthorized: true,
      maxHeaderSize: MAX_HEADER_BYTES,
      insecureHTTPParser: false,
      signal,
    });
    req.on('socket', (socket) => socket.once('connect', () => (connected = true)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected && !signal.aborted) fail(new ConnectFailure(`${target.address}: ${error.message}`));
      else
        refuse(
          'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE',
          error.code ? `${error.code} ${error.message}` : error.message,
        );
    });
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        return refuse(
          'WEB_BOT_AUTH_DIRECTORY_REDIRECT',
          `answered ${status} pointing to ${JSON.stringify(res.headers.location ?? '(no Location)')}; redirects ` +
            `are never followed: the agent must serve its directory at ${url.href} itself`,
        );
      }
      if (status >= 500) return refuse('WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE', `answered ${status}`);
      if (status !== 200) return refuse('WEB_BOT_AUTH_DIRECTORY_INVALID', `answered ${status}, not 200`);
      const coding = res.headers['content-encoding'];
      if (coding !== undefined && coding.trim().toLowerCase() !== 'identity') {
        return refuse(
          'WEB_BOT_AUTH_DIRECTORY_INVALID',
          `answered with Content-Encoding ${JSON.stringify(coding)} though identity was asked for`,
        );
      }
      const type = res.headers['content-type'];
      const essence = type?.split(';', 1)[0].trim().toLowerCase();
      if (essence !== DIRECTORY_MEDIA_TYPE) {
        return refuse(
          'WEB_BOT_AUTH_DIRECTORY_INVALID',
          `answered with Content-Type ${JSON.stringify(type ?? '(none)')}; a directory is served as ${DIRECTORY_MEDIA_TYPE}`,
        );
      }
      const declared = res.headers['content-length'];
      if (declared !== undefined && Number(declared) > options.maxBytes) {
        return refuse(
          'WEB_BOT_AUTH_DIRECTORY_TOO_LARGE',
          `declares ${declared} bytes, over directory.maxBytes (${options.maxBytes})`,
        );
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          refuse(
            'WEB_BOT_AUTH_DIRECTORY_TOO_LARGE',
            `sent more than directory.maxBytes (${options.maxBytes}) bytes; the read was cut off`,
          );
        } else chunks.push(chunk);
      });
      res.on('end', () => {
        if (!res.complete) return refuse('WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE', 'the body ended early');
        if (finished) return;
        finished = true;
        resolve({
          body: Buffer.concat(chunks, size),
          rawHeaders: res.rawHeaders,
          cacheControl: res.headers['cache-control'],
          fetchedAt: Date.now(),
          authority: url.host,
        });
      });
      res.on('error', (error) => refuse('WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE', error.message));
      res.on('close', () =>
        refuse('WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE', 'the connection closed before the body was complete'),
      );
    });
    req.end();
  });
}
