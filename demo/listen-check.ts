import { createServer } from 'node:net';
import { DemoEnvironmentError } from './demo-environment';

/**
 * Binds HOST:PORT once and lets go, before the demo writes its development key: a HOST that
 * resolves nowhere (ENOTFOUND), is not an address of this machine (EADDRNOTAVAIL), or a PORT
 * in use (EADDRINUSE) or reserved (EACCES) stops the demo here, with nothing written.
 * Another process can still take the port in the moment between this check and the real listen.
 */
export function checkCanListen(host: string, port: number): Promise<void> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        new DemoEnvironmentError(
          `cannot listen on ${host}:${port} (${error.code ?? error.message}): ` +
            (error.code === 'EADDRINUSE'
              ? 'another process holds that port; set PORT to a free one (0 picks one).'
              : 'set HOST to an address of this machine (127.0.0.1, 0.0.0.0, ::) and PORT to a port you may use.'),
        ),
      ),
    );
    server.listen({ host, port, exclusive: true }, () => server.close(() => ok()));
  });
}
