import type { HttpException } from '@nestjs/common';
import type { SecurityContext } from '../context/security-context';
import type { SignaturePolicyOverride } from '../signature-strategy/signature-policy';

/**
 * The authentication under way or done, per request object (see authenticateOnce()),
 * and the @RequireSignature() policy it ran under. Module-wide, not per guard
 * instance: a global guard and a @UseGuards() one are two instances on one request.
 */
export const pendingByRequest = new WeakMap<object, Promise<SecurityContext>>();
export const policyByRequest = new WeakMap<object, SignaturePolicyOverride | undefined>();

/**
 * Refusals already reported for a request, by what was refused: GraphQL asks the guard once
 * per field, and 2,000 aliased fields refused for one reason must stay one log line, one
 * audit event and one throttle count (a stranger's request costs bounded work; a client
 * cannot throttle its own key with one request). Not used for WebSocket messages, each of
 * which is its own action on a long-lived connection.
 */
const refusalsByRequest = new WeakMap<object, Map<string, Promise<HttpException> | HttpException>>();

export function knownRefusal(req: object, key: string): Promise<HttpException> | HttpException | undefined {
  return refusalsByRequest.get(req)?.get(key);
}

export function rememberRefusal<T extends Promise<HttpException> | HttpException>(
  req: object,
  key: string,
  refusal: T,
): T {
  let byKey = refusalsByRequest.get(req);
  if (!byKey) refusalsByRequest.set(req, (byKey = new Map()));
  byKey.set(key, refusal);
  return refusal;
}
