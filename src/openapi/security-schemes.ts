import { requireSwagger } from './optional-swagger';

/**
 * The names of the library's OpenAPI security schemes, one per way in. Prefixed, so they
 * never clash with an app's own schemes.
 */
export const KEYPAIR_AUTH_SECURITY_SCHEMES = {
  httpSignature: 'keypair-http-signature',
  clientJwt: 'keypair-client-jwt',
  accessToken: 'keypair-access-token',
  dpop: 'keypair-dpop',
  clientCertificate: 'keypair-client-certificate',
} as const;

export type KeypairAuthSecuritySchemeName =
  (typeof KEYPAIR_AUTH_SECURITY_SCHEMES)[keyof typeof KEYPAIR_AUTH_SECURITY_SCHEMES];

/** An OpenAPI 3.0 Security Scheme Object, of the kinds used here (assignable to swagger's SecuritySchemeObject). */
export interface KeypairAuthSecurityScheme {
  type: 'apiKey' | 'http';
  description: string;
  /** apiKey: the header. */
  name?: string;
  in?: 'header';
  /** http: the Authorization scheme. */
  scheme?: string;
  bearerFormat?: string;
  /** Specification extensions. */
  [extension: `x-${string}`]: unknown;
}

/**
 * The security schemes of the library, as OpenAPI 3.0 objects. OpenAPI 3.0 (what
 * @nestjs/swagger writes by default) has no scheme for a signed request or a client
 * certificate (`mutualTLS` is 3.1 only), so those are described as the header they ride in.
 */
export function keypairAuthSecuritySchemes(): Record<
  KeypairAuthSecuritySchemeName,
  KeypairAuthSecurityScheme
> {
  const names = KEYPAIR_AUTH_SECURITY_SCHEMES;
  return {
    [names.httpSignature]: {
      type: 'apiKey',
      in: 'header',
      name: 'Signature',
      description:
        'HTTP message signature by a registered key. RFC 9421: `Signature` and `Signature-Input` headers ' +
        'covering at least @method, @authority, @path, @query and created (and Content-Digest for a body). ' +
        'Or draft-cavage-12: `Authorization: Signature keyId="…",algorithm="…",headers="…",signature="…"`. ' +
        'Signed per request, single-use: the client SDK (nestjs-keypair-auth/client) or the CLI makes them.',
    },
    [names.clientJwt]: {
      type: 'apiKey',
      in: 'header',
      name: 'Authorization',
      description:
        '`Authorization: JWT <token>` (or `Bearer`): a short-lived JWT signed by the client with a ' +
        'registered private key (kid = its keyId; iat, exp, jti; optionally htm/htu bound to the request).',
    },
    [names.accessToken]: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT (at+jwt)',
      description:
        '`Authorization: Bearer <access token>` issued by POST /auth/token after one key proof, ' +
        'signed by the server keyring (see /.well-known/jwks.json).',
    },
    [names.dpop]: {
      type: 'http',
      scheme: 'DPoP',
      bearerFormat: 'JWT (at+jwt)',
      description:
        'RFC 9449: `Authorization: DPoP <access token>` for a key-bound token, with a `DPoP: <proof JWT>` ' +
        'header signed by the bound key (htm, htu, iat, jti, ath) on every request.',
    },
    [names.clientCertificate]: {
      type: 'apiKey',
      in: 'header',
      name: 'Client-Cert',
      description:
        'A client certificate (OpenAPI 3.1 mutualTLS): presented in the TLS handshake to this app, or ' +
        'verified by your TLS-terminating proxy and forwarded in the header its format uses (RFC 9440 ' +
        '`Client-Cert`, nginx, Envoy `x-forwarded-client-cert`). Clients never set this header themselves: ' +
        'it is only accepted from a trusted proxy.',
    },
  };
}

/** What addKeypairAuthSecuritySchemes needs of a builder: @nestjs/swagger's DocumentBuilder has it. */
export interface SecuritySchemeTarget {
  addSecurity(name: string, scheme: KeypairAuthSecurityScheme): unknown;
}

/**
 * Adds the library's security schemes to an OpenAPI DocumentBuilder, so the security
 * requirements of its routes (admin API, /keys, /auth/*) resolve:
 *
 *     const config = addKeypairAuthSecuritySchemes(new DocumentBuilder().setTitle('My API')).build();
 *
 * Throws with the install command when @nestjs/swagger is not installed: without it the
 * library's routes carry no OpenAPI description.
 */
export function addKeypairAuthSecuritySchemes<T extends SecuritySchemeTarget>(builder: T): T {
  requireSwagger('addKeypairAuthSecuritySchemes()');
  for (const [name, scheme] of Object.entries(keypairAuthSecuritySchemes()))
    builder.addSecurity(name, scheme);
  return builder;
}
