/**
 * A real HTTPS server that plays a Web Bot Auth agent's key directory
 * (/.well-known/http-message-signatures-directory), for the directory, e2e and demo tests.
 *
 *   const dir = await startDirectoryServer({ keys: [privateKey] });   // signed per the draft
 *   // trust dir.caPem (directory.ca), set directory.allowLoopback, name dir.origin as the agent
 *   dir.setKeys([otherKey]);                       // the next fetch serves another directory
 *   dir.setHandler((req, res) => res.destroy());   // or answer otherwise (hang, redirect, …)
 *   expect(dir.requests).toBe(1);                  // directory GETs seen
 *   await dir.close();
 *
 * The certificate (from a fresh local CA) covers both `localhost` and `127.0.0.1`.
 */
import { createPublicKey, KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directoryResponseHeaders } from 'web-bot-auth';
import { initCa, issueServerCert } from '../../../src/certificates';
import type { KeyAlgorithm } from '../../../src/keys/key-algorithm';
import { signedDirectoryResponse } from '../../../src/web-bot-auth/directory-response';
import { jwkThumbprint } from '../../../src/keys/jwk-thumbprint';
import { DIRECTORY_MEDIA_TYPE, DIRECTORY_PATH } from '../../../src/web-bot-auth/web-bot-auth-options';

// The package's `exports` map names `web-bot-auth/crypto`, which TypeScript's "node" module
// resolution cannot follow; the types come from the file it maps to.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { signerFromJWK } = require('web-bot-auth/crypto') as typeof import('web-bot-auth/dist/crypto');

/**
 * How the directory response is signed, one signature per key:
 * - 'draft': our RFC 9421 signer over ("@authority";req "content-digest"), as the draft asks;
 * - 'cloudflare': web-bot-auth 0.1.3's directoryResponseHeaders (("@authority";req) only,
 *   labels binding0, binding1, …; Ed25519 and RSA-PSS keys only);
 * - 'none': unsigned.
 */
export type DirectorySigning = 'draft' | 'cloudflare' | 'none';

export interface DirectoryServerOptions {
  /** Private keys whose public halves the directory lists (and that sign it). Default: none. */
  keys?: KeyObject[];
  /** Default 'draft'. */
  signing?: DirectorySigning;
  /** `origin` names 127.0.0.1 instead of localhost (the server listens on 127.0.0.1 either way). */
  host?: '127.0.0.1';
  /** Cache-Control of the directory response (default `max-age=300`). */
  cacheControl?: string;
}

export type DirectoryHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface DirectoryServer {
  /** https://localhost:PORT (or https://127.0.0.1:PORT with host '127.0.0.1'). */
  readonly origin: string;
  readonly port: number;
  /** The CA root that issued the server certificate: pass it as directory.ca. */
  readonly caPem: string;
  /** Directory GETs received (also those answered by a handler). */
  readonly requests: number;
  /** TCP connections accepted: 0 proves a fetch was refused before connecting. */
  readonly connections: number;
  /** Serve these keys from the next request on (and sign this way, default: unchanged). */
  setKeys(keys: KeyObject[], signing?: DirectorySigning): void;
  /** Answer directory requests with this handler instead (null: serve the keys again). */
  setHandler(handler: DirectoryHandler | null): void;
  /** Closes the server and every open connection (hung handlers included). */
  close(): Promise<void>;
}

/** The algorithm a test key signs with: Ed25519, ECDSA, RSA-PSS-SHA512 (Cloudflare's RSA choice). */
export function directoryAlgorithmOf(key: KeyObject): KeyAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return 'ed25519';
  if (type === 'ec') {
    return key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ecdsa-p384-sha384' : 'ecdsa-p256-sha256';
  }
  return 'rsa-pss-sha512';
}

const JWS_ALG: Record<KeyAlgorithm, string> = {
  ed25519: 'EdDSA',
  'ecdsa-p256-sha256': 'ES256',
  'ecdsa-p384-sha384': 'ES384',
  'rsa-v1_5-sha256': 'RS256',
  'rsa-v1_5-sha512': 'RS512',
  'rsa-pss-sha512': 'PS512',
};

/** The directory JWK of a private key's public half: kid = thumbprint, an alg, no private member. */
export function directoryJwk(key: KeyObject): Record<string, unknown> {
  const { kty, crv, x, y, n, e } = key.export({ format: 'jwk' });
  const pub = { kty, crv, x, y, n, e };
  const jwk = Object.fromEntries(Object.entries(pub).filter(([, v]) => v !== undefined));
  return { ...jwk, kid: jwkThumbprint(jwk), alg: JWS_ALG[directoryAlgorithmOf(key)] };
}

/**
 * The headers and body of a directory response for `authority` (host[:port] the client asked
 * for), signed as `signing` says. Exported so tests can tamper with a genuine response.
 */
export async function buildDirectoryResponse(
  keys: readonly KeyObject[],
  signing: DirectorySigning,
  authority: string,
  cacheControl = 'max-age=300',
): Promise<{ headers: Record<string, string>; body: string }> {
  const body = JSON.stringify({ keys: keys.map(directoryJwk) });
  const headers: Record<string, string> = {
    'Content-Type': DIRECTORY_MEDIA_TYPE,
    'Cache-Control': cacheControl,
  };
  if (keys.length === 0 || signing === 'none') return { headers, body };
  const created = Math.floor(Date.now() / 1000);
  const expires = created + 300;
  if (signing === 'cloudflare') {
    const signers = await Promise.all(
      keys.map((key) => {
        const jwk: Record<string, unknown> = key.export({ format: 'jwk' });
        if (key.asymmetricKeyType === 'rsa') jwk.alg = 'PS512';
        return signerFromJWK(jwk as Parameters<typeof signerFromJWK>[0]);
      }),
    );
    const signed = await directoryResponseHeaders(
      {
        request: { method: 'GET', url: `https://${authority}${DIRECTORY_PATH}`, headers: {} },
        response: { status: 200, headers: {} },
      },
      signers,
      { created: new Date(created * 1000), expires: new Date(expires * 1000) },
    );
    return { headers: { ...headers, ...signed }, body };
  }
  // 'draft': the library's own signed directory (what webBotAuthDirectory serves: its JWK form,
  // with use "sig"), for `authority`, with a 300 s lifetime.
  const signed = signedDirectoryResponse(
    keys.map((key) => ({
      privateKey: key,
      publicKey: createPublicKey(key),
      algorithm: directoryAlgorithmOf(key),
    })),
    authority,
    created * 1000,
    expires - created,
  );
  return {
    headers: {
      ...headers,
      'Content-Digest': signed.headers['content-digest'],
      'Signature-Input': signed.headers['signature-input'],
      Signature: signed.headers.signature,
    },
    body: signed.body.toString(),
  };
}

/** Starts the directory server on 127.0.0.1 and an ephemeral port. */
export async function startDirectoryServer(options: DirectoryServerOptions = {}): Promise<DirectoryServer> {
  const dir = await mkdtemp(join(tmpdir(), 'kpa-directory-'));
  const ca = await initCa(join(dir, 'ca'), { cn: 'Directory Test' });
  const cert = await issueServerCert(join(dir, 'ca'), 'localhost');
  let keys = options.keys ?? [];
  let signing: DirectorySigning = options.signing ?? 'draft';
  let handler: DirectoryHandler | null = null;
  let requests = 0;
  let connections = 0;

  const server: Server = createServer(
    { cert: cert.certPem + cert.chainPem, key: cert.keyPem },
    (req, res) => {
      const path = (req.url ?? '').split('?', 1)[0];
      if (path !== DIRECTORY_PATH) {
        res.writeHead(404).end();
        return;
      }
      requests++;
      if (handler) {
        handler(req, res);
        return;
      }
      // The test server signs for the authority the client asked for (a real agent signs for its own).
      buildDirectoryResponse(keys, signing, req.headers.host ?? '', options.cacheControl).then(
        ({ headers, body }) => res.writeHead(200, headers).end(body),
        (error: Error) => res.writeHead(500).end(error.message),
      );
    },
  );
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `https://${options.host ?? 'localhost'}:${port}`,
    port,
    caPem: ca.rootPem,
    get requests() {
      return requests;
    },
    get connections() {
      return connections;
    },
    setKeys(next, nextSigning) {
      keys = next;
      if (nextSigning !== undefined) signing = nextSigning;
    },
    setHandler(next) {
      handler = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
