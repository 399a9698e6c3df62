import {
  Body,
  Controller,
  Header,
  HttpCode,
  HttpException,
  Inject,
  Logger,
  Optional,
  Post,
  Req,
  Res,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { strictValidation } from '../admin/validation.pipe';
import { AuthAudit } from '../audit/auth-audit';
import { Public } from '../context/public.decorator';
import { getSecurityContext } from '../context/security-context.request';
import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import { authError, KeypairAuthException } from '../errors/keypair-auth.exception';
import { KeypairRequestException } from '../errors/request-error.exception';
import { authFailure } from '../guards/auth-failure';
import { PassportRegistry } from '../guards/passport-registry';
import { AuthRequest, toAuthRequest } from '../http/auth-request';
import { requestOrigin } from '../http/request-origin';
import { setResponseHeader } from '../http/response-headers';
import { ROLE_PATTERN } from '../keys/user-directory.interface';
import { KeypairApiOperation } from '../openapi/api-operation.decorator';
import { OPERATION_ERRORS as ERRORS } from '../openapi/documented-errors';
import { ChallengeSchema, RefreshTokenRevokedSchema, TokenResponseSchema } from '../openapi/response.schemas';
import { ApiHeader, ApiTags } from '../openapi/swagger.decorators';
import { KEYPAIR_AUTH_OPTIONS } from '../keypair-auth.constants';
import { KEYPAIR_AUTH_PASSPORT } from '../keypair-auth.internal-constants';
import type { ResolvedKeypairAuthOptions } from '../options/resolved-options';
import { AuthThrottle } from '../throttle/auth-throttle';
import type { ClaimedIdentity } from '../throttle/throttle-keys';
import type { IssuedChallenge } from './challenge';
import { DpopRequest, DpopVerifier } from './dpop.verifier';
import { ChallengeRequestDto } from './dto/challenge-request.dto';
import { RefreshRequestDto } from './dto/refresh-request.dto';
import { TokenRequestDto } from './dto/token-request.dto';
import { TokenRequestGuard } from './token-request.guard';
import { KeyProof, TokenResponse, TokenService } from './token.service';

/**
 * The token endpoints: `POST /auth/challenge`, `/auth/token`, `/auth/refresh`,
 * `/auth/revoke`. Thin over TokenService. Failures answer like the guard's: a
 * coded body, `WWW-Authenticate` on 401, one `auth.failure` log line.
 */
@ApiTags('auth')
@Controller('auth')
@UsePipes(strictValidation)
export class TokenController {
  private readonly logger = new Logger('KeypairAuth');
  private readonly service: TokenService;

  constructor(
    @Inject(TokenService) service: TokenService | null,
    @Inject(KEYPAIR_AUTH_OPTIONS) private readonly options: ResolvedKeypairAuthOptions,
    @Inject(KEYPAIR_AUTH_PASSPORT) private readonly strategies: PassportRegistry,
    @Optional() @Inject(AuthAudit) private readonly audit?: AuthAudit,
    @Optional() @Inject(AuthThrottle) private readonly throttle?: AuthThrottle | null,
  ) {
    if (!service) {
      throw ConfigError.create(
        'the token endpoints are mounted (tokenApi: true) but the tokens option is not set.',
        'Pass tokens: {} and responseSigning: { keys: [...] } (the server keyring that signs access tokens).',
      );
    }
    this.service = service;
  }

  /** A single-use challenge; the same answer whether or not the keyId exists. */
  @KeypairApiOperation({
    summary: 'Get a challenge to sign',
    description:
      'Single use, bound to the keyId. Answered the same whether or not the keyId exists. Sign the UTF-8 ' +
      'bytes of "keypair-auth-challenge:" + challenge, then send keyId, challenge and signature to POST /auth/token.',
    access: 'public',
    errors: ERRORS.challenge,
    ok: { description: 'The challenge.', type: ChallengeSchema },
  })
  @Public()
  @Post('challenge')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  challenge(@Body() dto: ChallengeRequestDto): IssuedChallenge {
    return this.service.issueChallenge(dto.keyId);
  }

  /** Key proof (a strategy's credentials, or a challenge answer) → access token + refresh token. */
  @KeypairApiOperation({
    summary: 'Get an access token and a refresh token',
    description:
      'Prove a registered key: sign this request (HTTP signature or client JWT), present a client ' +
      'certificate, or send no credentials and the answer to a challenge (keyId, challenge, signature). ' +
      'With a DPoP header the tokens are bound to its key (tokenType DPoP); with bindToKey to the proving ' +
      'key or certificate.',
    access: 'token-request',
    errors: ERRORS.token,
    ok: { description: 'The tokens.', type: TokenResponseSchema },
  })
  @ApiHeader({ name: 'DPoP', required: false, description: 'RFC 9449 proof: binds the tokens to its key.' })
  @Public()
  @UseGuards(TokenRequestGuard)
  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  token(@Req() req: unknown, @Res({ passthrough: true }) res: unknown, @Body() dto: TokenRequestDto) {
    // A challenge answer names its key in the body: that is the key id it is throttled by.
    const claimed = dto.keyId !== undefined ? { keyId: dto.keyId } : undefined;
    return this.run(req, res, claimed, async (): Promise<TokenResponse> => {
      const context = getSecurityContext(req);
      const answered = dto.keyId !== undefined || dto.challenge !== undefined || dto.signature !== undefined;
      if (context && answered) {
        throw new KeypairRequestException(
          'VALIDATION_FAILED',
          'Send either credentials or the answer to a challenge, not both.',
        );
      }
      let proof: KeyProof;
      if (context) {
        proof = await this.service.proveWithContext(context);
      } else if (!answered) {
        throw authError('CREDENTIALS_MISSING', 'neither credentials nor a challenge answer');
      } else if (!dto.keyId || !dto.challenge || !dto.signature) {
        throw new KeypairRequestException(
          'VALIDATION_FAILED',
          'A challenge answer needs keyId, challenge and signature.',
        );
      } else {
        this.checkThrottle(req, res, claimed);
        proof = await this.service.proveWithChallenge({
          keyId: dto.keyId,
          challenge: dto.challenge,
          signature: dto.signature,
        });
        this.audit?.success({ method: 'challenge', keyId: proof.keyId, username: proof.user.username }, req);
      }
      const request = toAuthRequest(req);
      return this.service.issue(proof, {
        roles: requestedRoles(dto),
        bindToKey: dto.bindToKey,
        dpop: this.dpopOf(request),
      });
    });
  }

  /** A refresh token → a new access token and a new refresh token; the old one is spent. */
  @KeypairApiOperation({
    summary: 'Exchange a refresh token for new tokens',
    description:
      'The refresh token is spent: presenting it again revokes its whole family (REFRESH_TOKEN_REUSED). ' +
      'A DPoP-bound family needs a DPoP proof by its key.',
    access: 'public',
    errors: ERRORS.refresh,
    ok: { description: 'New tokens.', type: TokenResponseSchema },
  })
  @ApiHeader({
    name: 'DPoP',
    required: false,
    description: 'RFC 9449 proof, for a DPoP-bound refresh token.',
  })
  @Public()
  @Post('refresh')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  refresh(@Req() req: unknown, @Res({ passthrough: true }) res: unknown, @Body() dto: RefreshRequestDto) {
    return this.run(req, res, undefined, () => {
      this.checkThrottle(req, res);
      return this.service.refresh(dto.refreshToken, this.bindingProofOf(req));
    });
  }

  /**
   * Ends the family of a refresh token (logout). Answers the same for unknown tokens; a
   * DPoP-bound family needs a proof by its key, as for `/auth/refresh`.
   */
  @KeypairApiOperation({
    summary: 'Log out: revoke a refresh token and its family',
    description: 'Answers the same for an unknown token. A DPoP-bound family needs a DPoP proof by its key.',
    access: 'public',
    errors: ERRORS.revokeRefreshToken,
    ok: { description: 'Revoked.', type: RefreshTokenRevokedSchema },
  })
  @ApiHeader({
    name: 'DPoP',
    required: false,
    description: 'RFC 9449 proof, for a DPoP-bound refresh token.',
  })
  @Public()
  @Post('revoke')
  @HttpCode(200)
  revoke(@Req() req: unknown, @Res({ passthrough: true }) res: unknown, @Body() dto: RefreshRequestDto) {
    return this.run(req, res, undefined, async () => {
      await this.service.revokeRefreshToken(dto.refreshToken, this.bindingProofOf(req));
      return { revoked: true };
    });
  }

  /** The DPoP proof (if any) of a request that presents a refresh token, and the request it must match. */
  private bindingProofOf(req: unknown): { proof: string | undefined; request: DpopRequest } {
    const request = toAuthRequest(req);
    const dpop = this.dpopOf(request);
    return {
      proof: dpop?.proof,
      request: dpop?.request ?? { method: request.method, url: request.url, origin: '' },
    };
  }

  private dpopOf(request: AuthRequest): { proof: string; request: DpopRequest } | undefined {
    const proof = DpopVerifier.proofOf(request.rawHeaders);
    if (proof === undefined) return undefined;
    return {
      proof,
      request: {
        method: request.method,
        url: request.url,
        origin: requestOrigin(request, this.options.origin),
      },
    };
  }

  /** Runs a handler; maps, audits and counts failures the way KeypairAuthGuard does. */
  private async run<T>(
    req: unknown,
    res: unknown,
    claimed: ClaimedIdentity | undefined,
    fn: () => Promise<T> | T,
  ): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      // Request errors (validation, 403 role subset) pass as they are; auth failures are mapped.
      if (error instanceof HttpException && !(error instanceof KeypairAuthException)) throw error;
      const exception = authFailure(error, req, res, this.logger, this.strategies, this.audit);
      if (this.throttle && exception.getStatus() === 401) {
        await this.throttle.recordFailure(req, toAuthRequest(req), claimed);
      }
      throw exception;
    }
  }

  /** 429 before any lookup or signature check for a client or key id over the failure limit. */
  private checkThrottle(req: unknown, res: unknown, claimed?: ClaimedIdentity): void {
    const retryAfterMs = this.throttle?.check(req, toAuthRequest(req), claimed) ?? null;
    if (retryAfterMs === null) return;
    setResponseHeader(res, 'Retry-After', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
    throw authError('AUTH_THROTTLED', 'too many failures from this client or for this key id');
  }
}

function requestedRoles(dto: TokenRequestDto): string[] | undefined {
  if (dto.roles !== undefined && dto.scope !== undefined) {
    throw new KeypairRequestException('VALIDATION_FAILED', 'Send roles or scope, not both.');
  }
  if (dto.scope === undefined) return dto.roles;
  const roles = dto.scope.split(' ').filter(Boolean);
  if (roles.length > 64 || roles.some((r) => !ROLE_PATTERN.test(r))) {
    throw new KeypairRequestException(
      'VALIDATION_FAILED',
      'scope must be at most 64 space-separated role names.',
    );
  }
  return roles;
}
