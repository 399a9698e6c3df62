import { SetMetadata } from '@nestjs/common';
import type { SignaturePolicyOverride } from './signature-policy';

export const SIGNATURE_POLICY_METADATA = 'keypair-auth:signature-policy';

/**
 * Makes a route or controller accept only HTTP message signatures (any other
 * credential is `401 SIGNATURE_REQUIRED`, refused before it is checked), and
 * tightens their policy: more covered components, a nonce, a shorter age. It can
 * never loosen the module's defaults. `@RequireSignature({})` only requires a signature.
 *
 *     @RequireSignature({ requiredComponents: ['content-type'], requireNonce: true })
 */
export const RequireSignature = (policy: SignaturePolicyOverride): MethodDecorator & ClassDecorator =>
  SetMetadata(SIGNATURE_POLICY_METADATA, policy);
