import {
  CallHandler,
  ExecutionContext,
  HttpStatus,
  Inject,
  Injectable,
  NestInterceptor,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { map, Observable } from 'rxjs';
import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import { toAuthRequest } from '../http/auth-request';
import { requestOrigin } from '../http/request-origin';
import { setResponseHeader, setResponseStatus } from '../http/response-headers';
import { getFieldLines, HttpMessageView, parseRfc9421 } from '../http-signatures';
import { KEYPAIR_AUTH_OPTIONS } from '../keypair-auth.constants';
import type { ResolvedKeypairAuthOptions } from '../options/resolved-options';
import { RESPONSE_SIGNER, SIGNS_OWN_RESPONSE } from './response-signing.constants';
import { ResponseSigner } from './response-signer';

/**
 * Signs the JSON response of a route (@SignResponse(), or every route with
 * `signAllResponses`). It serializes the body itself, so the bytes that are
 * digested and signed are the bytes sent. Exceptions are not signed, and neither are
 * GraphQL or WebSocket replies (with `signAllResponses` they pass through unsigned).
 */
@Injectable()
export class SignResponseInterceptor implements NestInterceptor {
  constructor(
    @Inject(RESPONSE_SIGNER) private readonly signer: ResponseSigner | null,
    @Inject(KEYPAIR_AUTH_OPTIONS) private readonly options: ResolvedKeypairAuthOptions,
    private readonly reflector: Reflector,
  ) {
    if (!signer) {
      throw ConfigError.create(
        '@SignResponse() is used but no responseSigning keys are configured.',
        'Pass responseSigning: { keys: [...] } to KeypairAuthModule.forRoot().',
      );
    }
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    // A resolver's value or a gateway's reply is not the HTTP response (the GraphQL
    // server or the socket frames it): there is nothing here to sign. docs/graphql.md says so.
    if (context.getType() !== 'http') return next.handle();
    if (this.reflector.get<boolean | undefined>(SIGNS_OWN_RESPONSE, context.getHandler()))
      return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<unknown>();
    const res = http.getResponse<unknown>();
    const request = toAuthRequest(req);
    const status =
      this.reflector.get<number | undefined>(HTTP_CODE_METADATA, context.getHandler()) ??
      (request.method === 'POST' ? HttpStatus.CREATED : HttpStatus.OK);
    return next.handle().pipe(
      map((data: unknown) => {
        const text = typeof data === 'string' ? data : (JSON.stringify(data) ?? '');
        const contentType =
          typeof data === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
        const origin = new URL(requestOrigin(request, this.options.origin));
        const requestView: HttpMessageView = {
          method: request.method,
          scheme: origin.protocol.slice(0, -1),
          authority: origin.host,
          target: request.url,
          rawHeaders: request.rawHeaders,
        };
        const headers = (this.signer as ResponseSigner).sign(
          { status, rawHeaders: ['Content-Type', contentType], body: Buffer.from(text) },
          requestView,
          this.requestSignatureLabel(requestView),
        );
        setResponseStatus(res, status);
        setResponseHeader(res, 'Content-Type', contentType);
        for (const [name, value] of Object.entries(headers)) setResponseHeader(res, name, value);
        return text;
      }),
    );
  }

  /** The label of the request's RFC 9421 signature that the policy checked, to bind with ;req. */
  private requestSignatureLabel(view: HttpMessageView): string | undefined {
    if (getFieldLines(view, 'signature-input') === undefined) return undefined;
    const { label, tag } = this.options.httpSignature.policy;
    const signatures = parseRfc9421(view).filter(
      (s) => (label === undefined || s.label === label) && (tag === undefined || s.params.tag === tag),
    );
    return signatures.length === 1 ? signatures[0].label : undefined;
  }
}
