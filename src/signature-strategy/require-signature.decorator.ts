import { SetMetadata } from '@nestjs/common';
import type { SignaturePolicyOverride } from './signature-policy';

export const SIGNATURE_POLICY_METADATA = 'keypair-auth:signature-policy';

/**
 * Tightens the HTTP-signature policy for a route or controller: more covered
 * components, a nonce, a shorter age. It can never loosen the module's defaults.
 *
 *     @RequireSignature({ requiredComponents: ['content-type'], requireNonce: true })
 */
export const RequireSignature = (policy: SignaturePolicyOverride): MethodDecorator & ClassDecorator =>
  SetMetadata(SIGNATURE_POLICY_METADATA, policy);
