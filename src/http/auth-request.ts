import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/**
 * The parts of an incoming request the authenticators read, taken the same way
 * from an Express request and a Fastify request, so authenticators never see a
 * framework type.
 */
export interface AuthRequest {
  readonly method: string;
  /** The request-target as received (origin-form: path and query). */
  readonly url: string;
  /** Node's raw header list, duplicates and order kept. */
  readonly rawHeaders: readonly string[];
  /** The exact body bytes, when the app enabled `rawBody`. */
  readonly rawBody: Buffer | undefined;
  readonly remoteAddress: string | undefined;
  readonly encrypted: boolean;
  readonly socket: IncomingMessage['socket'];
}

interface FrameworkRequest {
  raw?: IncomingMessage;
  originalUrl?: string;
  rawBody?: Buffer;
}

export function toAuthRequest(request: unknown): AuthRequest {
  const req = request as FrameworkRequest & IncomingMessage;
  const raw: IncomingMessage = req.raw ?? req;
  return {
    method: raw.method ?? 'GET',
    url: req.originalUrl ?? raw.url ?? '/',
    rawHeaders: raw.rawHeaders,
    rawBody: req.rawBody,
    remoteAddress: raw.socket?.remoteAddress,
    encrypted: Boolean((raw.socket as TLSSocket | undefined)?.encrypted),
    socket: raw.socket,
  };
}

/**
 * All values of one header, from rawHeaders (case-insensitive name). Node's
 * `headers` object silently drops duplicate Authorization lines, so duplicates
 * are only visible here.
 */
export function headerValues(rawHeaders: readonly string[], lowerName: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) values.push(rawHeaders[i + 1]);
  }
  return values;
}
