import { HttpException, IntrinsicException } from '@nestjs/common';
import type { ExecutionKind } from '../context/execution-target';

/** The JSON body of a refusal, as the client of any kind sees it. */
interface RefusalBody {
  readonly statusCode?: number;
  readonly code?: string;
  readonly message?: string;
}

/**
 * A refusal inside a GraphQL resolver. graphql-js copies an error's `extensions`
 * onto the GraphQL error it reports, so the client reads our stable code as
 * `errors[].extensions.code` (not Apollo's generic UNAUTHENTICATED/FORBIDDEN, which
 * is what an HttpException would become). `extensions.http.status` asks Apollo
 * Server for the HTTP status of an authentication failure; `statusCode` asks Mercurius.
 * An IntrinsicException, so Nest's external exception filter does not log it as an
 * unhandled error (the guard has already logged the refusal with its reason).
 */
export class KeypairAuthGraphQLError extends IntrinsicException {
  readonly extensions: { code: string; status: number; http?: { status: number } };
  readonly statusCode: number | undefined;

  constructor(body: RefusalBody, status: number) {
    super(body.message ?? 'Authentication failed.');
    this.name = 'KeypairAuthGraphQLError';
    // A role refusal is about one field: the rest of the response stays, and so does its 200.
    const requestWide = status !== 403;
    this.extensions = {
      code: body.code ?? 'AUTHENTICATION_FAILED',
      status,
      ...(requestWide ? { http: { status } } : {}),
    };
    this.statusCode = requestWide ? status : undefined;
  }
}

/**
 * The refusal in the form the execution context reports errors: the HttpException
 * itself over HTTP, a GraphQL error with `extensions.code` in a resolver, and a
 * WsException (`{status, code, message}`, emitted as `exception`) in a gateway.
 */
export function exceptionForContext(exception: HttpException, kind: ExecutionKind): Error {
  if (kind === 'http') return exception;
  const body = refusalBody(exception);
  if (kind === 'graphql') return new KeypairAuthGraphQLError(body, exception.getStatus());
  return wsException(body, exception.getStatus());
}

function refusalBody(exception: HttpException): RefusalBody {
  const response = exception.getResponse();
  return typeof response === 'object' && response !== null
    ? (response as RefusalBody)
    : { message: String(response) };
}

type WsExceptionClass = new (error: object) => Error;
let wsExceptionClass: WsExceptionClass | undefined;

/** WsException from @nestjs/websockets, loaded on first use: only a gateway can get here, and it has the package. */
function wsException(body: RefusalBody, status: number): Error {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  wsExceptionClass ??= (require('@nestjs/websockets') as { WsException: WsExceptionClass }).WsException;
  return new wsExceptionClass({ status, code: body.code, message: body.message });
}
