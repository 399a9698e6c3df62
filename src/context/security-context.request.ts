import { SecurityContext } from './security-context';

/** The property of the request object that carries the context (Express or Fastify request alike). */
export const SECURITY_CONTEXT_PROPERTY = 'securityContext';

export interface RequestWithSecurityContext {
  [SECURITY_CONTEXT_PROPERTY]?: SecurityContext;
  user?: unknown;
}

export function getSecurityContext(request: unknown): SecurityContext | undefined {
  const ctx = (request as RequestWithSecurityContext)[SECURITY_CONTEXT_PROPERTY];
  return ctx instanceof SecurityContext ? ctx : undefined;
}
