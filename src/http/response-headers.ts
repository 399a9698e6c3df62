/** Sets a response header on an Express response or a Fastify reply alike. */
export function setResponseHeader(res: unknown, name: string, value: string): void {
  const r = res as {
    header?: (n: string, v: string) => unknown;
    setHeader?: (n: string, v: string) => unknown;
  };
  if (typeof r.header === 'function') r.header(name, value);
  else if (typeof r.setHeader === 'function') r.setHeader(name, value);
}

/** Sets the status code on an Express response or a Fastify reply alike. */
export function setResponseStatus(res: unknown, status: number): void {
  const r = res as { status?: (s: number) => unknown; code?: (s: number) => unknown };
  if (typeof r.code === 'function') r.code(status);
  else if (typeof r.status === 'function') r.status(status);
}
