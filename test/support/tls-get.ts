import { connect, TLSSocket } from 'node:tls';
import { IssuedCertificate } from '../../src';

/**
 * One GET on a raw TLS connection (HTTP/1.1, Connection: close), optionally resuming `session`
 * (what `send` never does), for tests of TLS session resumption. Returns the status, the body,
 * whether the session was resumed, and the session to resume next.
 */
export function tlsGet(
  port: number,
  path: string,
  opts: {
    client?: Pick<IssuedCertificate, 'certPem' | 'chainPem' | 'keyPem'>;
    ca: string;
    session?: Buffer;
    maxVersion?: 'TLSv1.2' | 'TLSv1.3';
    headers?: string;
    ciphers?: string;
  },
): Promise<{ status: number; body: string; reused: boolean; session?: Buffer }> {
  return new Promise((resolve, reject) => {
    let session: Buffer | undefined;
    const socket: TLSSocket = connect({
      host: '127.0.0.1',
      port,
      ca: opts.ca,
      cert: opts.client ? opts.client.certPem + opts.client.chainPem : undefined,
      key: opts.client?.keyPem,
      session: opts.session,
      maxVersion: opts.maxVersion ?? 'TLSv1.3',
      checkServerIdentity: () => undefined,
      ...(opts.ciphers ? { ciphers: opts.ciphers } : {}),
    });
    socket.on('session', (s: Buffer) => (session = s));
    let data = '';
    let reused = false;
    socket.on('secureConnect', () => {
      reused = socket.isSessionReused();
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${opts.headers ?? ''}Connection: close\r\n\r\n`,
      );
    });
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (data += d));
    socket.on('error', reject);
    socket.on('close', () => {
      const m = /^HTTP\/1\.1 (\d+)/.exec(data);
      resolve({
        status: m ? Number(m[1]) : 0,
        body: data.slice(data.indexOf('\r\n\r\n') + 4),
        reused,
        session,
      });
    });
  });
}
