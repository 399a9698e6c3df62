/** Sets a response header on an Express response or a Fastify reply alike. */
export function setResponseHeader(res: unknown, name: string, value: string): void {
  if (typeof res !== 'object' || res === null) return; // a WebSocket message has no response
  const r = res as {
    header?: (n: string, v: string) => unknown;
    setHeader?: (n: string, v: string) => unknown;
  };
  if (typeof r.header === 'function') r.header(name, value);
  else if (typeof r.setHeader === 'function') r.setHeader(name, value);
}

/** Sets the status code on an Express response or a Fastify reply alike. */
export function setResponseStatus(res: unknown, status: number): void {
  if (typeof res !== 'object' || res === null) return;
  const r = res as { status?: (s: number) => unknown; code?: (s: number) => unknown };
  if (typeof r.code === 'function') r.code(status);
  else if (typeof r.status === 'function') r.status(status);
}
