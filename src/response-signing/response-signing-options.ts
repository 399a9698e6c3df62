import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import { isSfKey } from '../http-signatures/structured-field';
import type { ResponseSigningOptions } from './response-signer';

const KNOWN: readonly string[] = ['keys', 'label'] satisfies readonly (keyof ResponseSigningOptions)[];

/**
 * Checks a response signature label: it is written as the dictionary key of the
 * Signature and Signature-Input headers, so it must be an RFC 8941 key.
 */
export function checkResponseSignatureLabel(label: unknown): void {
  if (label === undefined) return;
  if (typeof label !== 'string' || !isSfKey(label)) {
    throw ConfigError.create(
      `responseSigning.label ${JSON.stringify(label)} cannot label a signature.`,
      'A label starts with a lowercase letter (or *) and has only lowercase letters, digits and _ - . *, ' +
        'e.g. "res" (the default) or "sig-2026".',
    );
  }
}

/**
 * Validates `responseSigning` at startup (undefined when it is not set). The keys
 * themselves are checked when the server keyring is built (ServerKeyring), still at
 * startup: keyId, key type and strength, algorithm.
 */
export function validateResponseSigningOptions(raw: unknown): ResponseSigningOptions | undefined {
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw ConfigError.create(
      'responseSigning must be an object.',
      "Pass responseSigning: { keys: [{ keyId: 'server-1', privateKey }] }.",
    );
  }
  for (const key of Object.keys(raw)) {
    if (key === 'global') {
      throw ConfigError.create(
        'responseSigning.global is not an option: nothing would read it.',
        'Mark the routes to sign with @SignResponse(), or pass signAllResponses: true beside the options ' +
          '(KeypairAuthModule.forRoot({ signAllResponses: true, … })) to sign every response; ' +
          'see docs/response-signing.md and its cost in docs/performance.md.',
      );
    }
    if (!KNOWN.includes(key)) {
      throw ConfigError.create(
        `unknown option responseSigning.${key}.`,
        `Known options: ${KNOWN.join(', ')}.`,
      );
    }
  }
  const options = raw as ResponseSigningOptions;
  checkResponseSignatureLabel(options.label);
  return options;
}
