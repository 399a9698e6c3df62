import { applyDecorators, Type } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { DocumentedErrorCode, GUARD_ERROR_CODES, statusOf } from './documented-errors';
import { KeypairAuthErrorBody } from './error-body.schema';
import { KEYPAIR_AUTH_SECURITY_SCHEMES as SCHEMES } from './security-schemes';
import { ApiExtraModels, ApiOperation, ApiResponse, ApiSecurity, schemaRef } from './swagger.decorators';

/**
 * Who may call an operation:
 * - `guard`: KeypairAuthGuard, any way in;
 * - `admin`: the same, and the `admin` role;
 * - `key-proof`: the guard, but only a key (signature, client JWT, client certificate) succeeds;
 * - `token-request`: a key proof, or no credentials and a challenge answer in the body;
 * - `public`: no credentials.
 */
export type OperationAccess = 'guard' | 'admin' | 'key-proof' | 'token-request' | 'public';

export interface KeypairOperationDoc {
  summary: string;
  description?: string;
  access: OperationAccess;
  /** Codes beyond those of the way in (the guard's are added for every access but `public`). */
  errors: readonly DocumentedErrorCode[];
  ok: { status?: number; description: string; type?: Type | [Type] };
}

const ANY_WAY_IN = Object.values(SCHEMES);
const KEY_PROOFS = [SCHEMES.httpSignature, SCHEMES.clientJwt, SCHEMES.clientCertificate];

function requirements(access: OperationAccess): Record<string, string[]>[] {
  const of = (names: readonly string[]) => names.map((name) => ({ [name]: [] }));
  switch (access) {
    case 'public':
      return [];
    case 'key-proof':
      return of(KEY_PROOFS);
    case 'token-request':
      return [...of(KEY_PROOFS), {}];
    default:
      return of(ANY_WAY_IN);
  }
}

function errorCodes(doc: KeypairOperationDoc): DocumentedErrorCode[] {
  const codes: DocumentedErrorCode[] = [...doc.errors];
  if (doc.access !== 'public') codes.push(...GUARD_ERROR_CODES);
  if (doc.access === 'admin') codes.push('ROLE_REQUIRED');
  return [...new Set(codes)];
}

/** One response per status, each with the error body schema and the codes of that status as an enum. */
function errorResponses(codes: readonly DocumentedErrorCode[]): MethodDecorator[] {
  const byStatus = new Map<number, DocumentedErrorCode[]>();
  for (const code of codes) {
    const status = statusOf(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return [...byStatus.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, list]) =>
      ApiResponse({
        status,
        description: `${STATUS_CODES[status]}: ${list.join(', ')}`,
        schema: {
          allOf: [
            schemaRef(KeypairAuthErrorBody),
            { type: 'object', properties: { code: { type: 'string', enum: list } } },
          ],
        },
      }),
    );
}

/**
 * The OpenAPI description of a library operation: summary, security requirement, success
 * response, and every error response with the codes it can carry. A no-op without @nestjs/swagger.
 */
export function KeypairApiOperation(doc: KeypairOperationDoc): MethodDecorator {
  const security = requirements(doc.access).map((requirement) => ApiSecurity(requirement));
  const { status = 200, description, type } = doc.ok;
  return applyDecorators(
    ApiOperation({ summary: doc.summary, description: doc.description }),
    ApiExtraModels(KeypairAuthErrorBody),
    ...security,
    ApiResponse({ status, description, type }),
    ...errorResponses(errorCodes(doc)),
  );
}

/**
 * For an app's own routes behind KeypairAuthGuard: the library's security requirement
 * (any way in) and the guard's error responses, with their codes. A no-op without @nestjs/swagger.
 *
 *     @ApiKeypairAuth()
 *     @UseGuards(KeypairAuthGuard)
 *     @Get('orders') list() { ... }
 */
export function ApiKeypairAuth(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(KeypairAuthErrorBody),
    ...requirements('guard').map((requirement) => ApiSecurity(requirement)),
    ...errorResponses(GUARD_ERROR_CODES),
  );
}
