import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Optional,
  Param,
  Post,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { CurrentSecurityContext } from '../context/current-security-context.decorator';
import { SecurityContext } from '../context/security-context';
import { CertificateRegistry } from '../certificate-strategy/certificate-registry';
import { authError } from '../errors/keypair-auth.exception';
import { KeypairRequestException } from '../errors/request-error.exception';
import { KeypairAuthGuard } from '../guards/keypair-auth.guard';
import { NotAnAgentGuard } from '../web-bot-auth/not-an-agent.guard';
import { keyProofOf, KeyProofOutcome } from '../keys/key-proof';
import { KeyRegistry } from '../keys/key-registry';
import type { KeyView } from '../keys/registered-key';
import { KeypairApiOperation } from '../openapi/api-operation.decorator';
import { OPERATION_ERRORS as ERRORS } from '../openapi/documented-errors';
import { KeySchema } from '../openapi/response.schemas';
import { ApiTags } from '../openapi/swagger.decorators';
import { RegisterKeyDto } from './dto/register-key.dto';
import { KeyAdminService } from './key-admin.service';
import { strictValidation } from './validation.pipe';

/**
 * A key id with ":" or "/" looks like a URL (a fediverse `keyId` such as
 * `https://social.example/users/bob#main-key`) or a reserved prefix (`dn:`). Such an id
 * names a key published elsewhere by its owner; if anyone could register it, with the
 * owner's public key, the owner's signed requests would log in here as that someone.
 * Self-service cannot prove who published the URL, so only admins register them.
 */
const RESERVED_KEY_ID = /[:/]/;

/** Any authenticated caller manages its own keys here, a Web Bot Auth agent excepted (NotAnAgentGuard). */
@ApiTags('keys')
@Controller('keys')
@UseGuards(KeypairAuthGuard, NotAnAgentGuard)
@UsePipes(strictValidation)
export class SelfServiceKeysController {
  constructor(
    private readonly keys: KeyAdminService,
    private readonly registry: KeyRegistry,
    @Optional() private readonly certificates?: CertificateRegistry,
  ) {}

  @KeypairApiOperation({
    summary: 'List my keys',
    access: 'guard',
    errors: ERRORS.listOwnKeys,
    ok: { description: "The caller's keys, revoked ones included.", type: [KeySchema] },
  })
  @Get()
  list(@CurrentSecurityContext() ctx: SecurityContext): Promise<KeyView[]> {
    return this.keys.registryKeys(ctx.user);
  }

  /**
   * Adding a key needs a key proof (a signature by a registered key of this account,
   * or a verified client certificate): an access token would turn a stolen 10-minute
   * credential into a permanent one that survives revoke-tokens, and a shared HMAC
   * secret or a DN forwarded by a proxy is not a key either.
   * Self-service keyIds cannot look like URLs (see RESERVED_KEY_ID).
   * A new key can never carry more than the credential that registers it: its roles
   * default to, and must be a subset of, the caller's effective roles. Otherwise a
   * `reader`-limited key could mint an unrestricted one.
   */
  @KeypairApiOperation({
    summary: 'Add a key to my account',
    description:
      'Needs a key proof: a request signed by a registered key of this account, or a verified client ' +
      'certificate registered to it (not an access token). The new key carries at most the roles and the ' +
      'lifetime of the credential that adds it.',
    access: 'key-proof',
    errors: ERRORS.registerOwnKey,
    ok: { status: 201, description: 'The registered key.', type: KeySchema },
  })
  @Post()
  async register(
    @CurrentSecurityContext() ctx: SecurityContext,
    @Body() dto: RegisterKeyDto,
  ): Promise<KeyView> {
    const proof = await keyProofOf(ctx, this.registry);
    if (proof.kind === 'none') throw authError('KEY_REGISTRATION_NEEDS_KEY_PROOF', proof.reason);
    if (dto.keyId !== undefined && RESERVED_KEY_ID.test(dto.keyId)) {
      throw new KeypairRequestException(
        'KEY_ID_RESERVED',
        'keyIds with ":" or "/" (URLs such as fediverse key ids) name a key published elsewhere: only an ' +
          'admin can register one (POST /admin/users/:username/keys). Leave keyId out to use the fingerprint.',
        403,
      );
    }
    const expiresAt = await this.expiryWithin(proof, dto.expiresAt);
    const roles = dto.roles ?? [...ctx.roles];
    const exceeding = roles.filter((r) => !ctx.hasRole(r));
    if (exceeding.length > 0) {
      throw new KeypairRequestException(
        'ROLES_EXCEED_CREDENTIAL',
        `A key registered with this credential can only carry its roles; not allowed: ${exceeding.join(', ')}.`,
        403,
      );
    }
    return this.keys.register(ctx.user, { ...dto, roles, expiresAt });
  }

  /**
   * A new key never outlives the credential that registers it: without `expiresAt` it
   * expires with that key (or certificate), and a later one is refused. Otherwise a key
   * an admin gave an hour could make itself a permanent one.
   */
  private async expiryWithin(
    proof: Exclude<KeyProofOutcome, { kind: 'none' }>,
    requested: string | undefined,
  ): Promise<string | undefined> {
    let limit: number | null;
    if (proof.kind === 'key') limit = proof.key.expiresAt;
    else {
      const registration = await this.certificates?.get(proof.fingerprint);
      if (!registration) throw authError('KEY_REGISTRATION_NEEDS_KEY_PROOF', 'certificate not registered');
      limit = Date.parse(registration.notAfter);
    }
    if (limit === null) return requested;
    if (requested === undefined) return new Date(limit).toISOString();
    if (!(Date.parse(requested) <= limit)) {
      throw new KeypairRequestException(
        'KEY_OUTLIVES_CREDENTIAL',
        `A key registered with this credential must expire by ${new Date(limit).toISOString()}, when the ` +
          'credential does; leave expiresAt out to use that time, or ask an admin for a longer-lived key.',
        403,
      );
    }
    return requested;
  }

  @KeypairApiOperation({
    summary: 'Revoke one of my keys',
    description: "Another user's key answers like a missing one (KEY_NOT_FOUND).",
    access: 'guard',
    errors: ERRORS.revokeOwnKey,
    ok: { description: 'The revoked key.', type: KeySchema },
  })
  @Delete(':keyId')
  @HttpCode(200)
  revoke(@CurrentSecurityContext() ctx: SecurityContext, @Param('keyId') keyId: string): Promise<KeyView> {
    return this.keys.revoke(keyId, ctx.user.id);
  }
}
