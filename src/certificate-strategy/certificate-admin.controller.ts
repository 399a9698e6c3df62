import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { KeyAdminService } from '../admin/key-admin.service';
import { strictValidation } from '../admin/validation.pipe';
import { Roles } from '../context/roles.decorator';
import { KeypairRequestException } from '../errors/request-error.exception';
import { KeypairAuthGuard } from '../guards/keypair-auth.guard';
import { NotAnAgentGuard } from '../web-bot-auth/not-an-agent.guard';
import { KeypairApiOperation } from '../openapi/api-operation.decorator';
import { OPERATION_ERRORS as ERRORS } from '../openapi/documented-errors';
import { CertificateSchema } from '../openapi/response.schemas';
import { ApiTags } from '../openapi/swagger.decorators';
import {
  CertificateRegistry,
  CertificateView,
  normalizeCertificateFingerprint,
} from './certificate-registry';
import { RegisterCertificateDto } from './dto/register-certificate.dto';

/** Admin API for client certificates registered by fingerprint. Every route needs the `admin` role. */
@ApiTags('admin')
@Controller('admin')
@UseGuards(KeypairAuthGuard, NotAnAgentGuard)
@Roles('admin')
@UsePipes(strictValidation)
export class CertificateAdminController {
  constructor(
    private readonly users: KeyAdminService,
    private readonly certificates: CertificateRegistry,
  ) {}

  /** Registers a certificate; answers with its fingerprint (the SecurityContext keyId). */
  @KeypairApiOperation({
    summary: "Register a user's client certificate",
    description:
      'One PEM certificate (never its private key). Answers its fingerprint: the keyId of its logins.',
    access: 'admin',
    errors: ERRORS.registerCertificate,
    ok: { status: 201, description: 'The registered certificate.', type: CertificateSchema },
  })
  @Post('users/:username/certificates')
  async register(
    @Param('username') username: string,
    @Body() dto: RegisterCertificateDto,
  ): Promise<CertificateView> {
    const user = await this.users.user(username);
    return this.certificates.register(user, dto.certificate, { label: dto.label, roles: dto.roles });
  }

  @KeypairApiOperation({
    summary: "List a user's client certificates",
    access: 'admin',
    errors: ERRORS.listCertificates,
    ok: { description: 'Every certificate of the user, revoked ones included.', type: [CertificateSchema] },
  })
  @Get('users/:username/certificates')
  async list(@Param('username') username: string): Promise<CertificateView[]> {
    return this.certificates.list((await this.users.user(username)).id);
  }

  /** Revokes at once on this instance (others see it within keyCache.ttlSeconds). */
  @KeypairApiOperation({
    summary: 'Revoke a client certificate',
    description: 'By its SHA-256 fingerprint (hex, colons allowed).',
    access: 'admin',
    errors: ERRORS.revokeCertificate,
    ok: { description: 'The revoked certificate.', type: CertificateSchema },
  })
  @Delete('certificates/:fingerprint')
  @HttpCode(200)
  async revoke(@Param('fingerprint') fingerprint: string): Promise<CertificateView> {
    const normalized = normalizeCertificateFingerprint(fingerprint);
    const revoked = normalized === null ? null : await this.certificates.revoke(normalized);
    if (!revoked) {
      throw new KeypairRequestException(
        'CERTIFICATE_NOT_FOUND',
        'No such certificate.',
        HttpStatus.NOT_FOUND,
      );
    }
    return revoked;
  }
}
