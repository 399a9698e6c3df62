import { Controller, Get, Inject, Res, SetMetadata, StreamableFile } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Public } from '../context/public.decorator';
import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import { KEYPAIR_AUTH_OPTIONS } from '../keypair-auth.constants';
import { ApiOperation, ApiResponse, ApiTags } from '../openapi/swagger.decorators';
import type { ResolvedKeypairAuthOptions } from '../options/resolved-options';
import { SERVER_KEYRING, SIGNS_OWN_RESPONSE } from '../response-signing/response-signing.constants';
import type { ServerKeyring } from '../response-signing/server-keyring';
import { signedDirectoryResponse, SignedDirectoryResponse } from './directory-response';
import { DIRECTORY_MEDIA_TYPE } from './web-bot-auth-options';

/**
 * A signed directory is reused this long. The endpoint is public: signing on every GET
 * would let anyone make the server do an RSA signature per request; a minute keeps
 * `created` fresh and the cost at one signature per key per minute.
 */
const RESIGN_AFTER_MS = 60_000;

/**
 * Serves the server keyring's public keys as a Web Bot Auth key directory
 * (`/.well-known/http-message-signatures-directory`, structural option `webBotAuthDirectory`),
 * so this server can act as a Web Bot Auth agent with the keys it already has. The
 * directory's signatures name the configured `origin`'s authority, never the Host header.
 */
@ApiTags('keys')
@Controller('.well-known')
export class WebBotAuthDirectoryController {
  private readonly keyring: ServerKeyring;
  private readonly authority: string;
  private signed: { at: number; response: SignedDirectoryResponse } | undefined;

  constructor(
    @Inject(SERVER_KEYRING) keyring: ServerKeyring | null,
    @Inject(KEYPAIR_AUTH_OPTIONS) options: ResolvedKeypairAuthOptions,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {
    if (!keyring) {
      throw ConfigError.create(
        'the Web Bot Auth key directory is mounted (webBotAuthDirectory: true) but there are no server keys.',
        "Pass responseSigning: { keys: [{ keyId: 'server-1', privateKey: '-----BEGIN PRIVATE KEY-----…' }] } " +
          '(create one with `keypair-auth keygen --type ed25519 --out server`), or leave webBotAuthDirectory out.',
      );
    }
    if (!options.origin) {
      throw ConfigError.create(
        'the Web Bot Auth key directory is mounted (webBotAuthDirectory: true) but origin is not set: its ' +
          'signatures name the host a verifier fetched it from, and the Host header of a request cannot be trusted for that.',
        "Set origin: 'https://api.example.com' (this server's public scheme and authority).",
      );
    }
    // Ed25519 and RSA-PSS-SHA512 are what Web Bot Auth verifiers implement (Cloudflare's takes
    // nothing else; the SDK signs RSA keys with PSS): a keyring key on another algorithm would
    // publish a directory that verifiers reject, and this server's requests with it.
    for (const key of keyring.keys) {
      if (key.algorithm !== 'ed25519' && key.algorithm !== 'rsa-pss-sha512') {
        throw ConfigError.create(
          `the Web Bot Auth key directory (webBotAuthDirectory: true) would publish server key ${JSON.stringify(key.keyId)} ` +
            `for ${key.algorithm}; Web Bot Auth verifiers take Ed25519 and RSA keys signing rsa-pss-sha512.`,
          "Use an Ed25519 key (keypair-auth keygen --type ed25519), or an RSA key with algorithm: 'rsa-pss-sha512' in responseSigning.keys.",
        );
      }
    }
    this.keyring = keyring;
    this.authority = new URL(options.origin).host;
  }

  @ApiOperation({
    summary: 'Web Bot Auth key directory',
    description:
      'The public keys this server signs with as a Web Bot Auth agent, kid = RFC 7638 thumbprint, ' +
      'each with a response signature over the origin and the body digest.',
  })
  @ApiResponse({ status: 200, description: `A JWK Set, as ${DIRECTORY_MEDIA_TYPE}.` })
  @Public()
  // Its bytes and signatures are final: the response signer (signAllResponses) leaves them alone.
  @SetMetadata(SIGNS_OWN_RESPONSE, true)
  @Get('http-message-signatures-directory')
  directory(@Res({ passthrough: true }) res: unknown): StreamableFile {
    const now = Date.now();
    if (!this.signed || now - this.signed.at >= RESIGN_AFTER_MS) {
      this.signed = { at: now, response: signedDirectoryResponse(this.keyring.keys, this.authority, now) };
    }
    const { body, headers } = this.signed.response;
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of Object.entries(headers)) adapter.setHeader(res, name, value);
    // A StreamableFile: both adapters send its bytes untouched (no JSON serialization,
    // no charset added), so the body is exactly the one the Content-Digest covers.
    return new StreamableFile(body, { type: DIRECTORY_MEDIA_TYPE, length: body.length });
  }
}
