import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyLegacyDigest } from '../digest/legacy-digest';
import { parseRawHttpMessage } from '../raw-http-message';
import { cavageSigner, signCavage } from './cavage-signer';
import { parseCavage, parseCavageAuthorization, parseCavageSignatureHeader } from './cavage-header.parser';
import { verifyCavageSignature } from './cavage-verifier';
import { buildCavageSigningString, cavageDefaultHeaders } from './signing-string';

interface CavageTest {
  readonly id: string;
  readonly algorithm: string;
  readonly headersParam: string | null;
  readonly signingString?: string;
  readonly signingStringAsPrinted?: string;
  readonly created?: number;
  readonly expires?: number;
  readonly authorization: { readonly value: string };
  readonly signatureHeader?: { readonly value: string };
  readonly signatureB64: string;
  readonly correctedPositive?: { readonly headersParam: string; readonly signatureHeader: string };
}
interface CavageVectors {
  readonly key: { readonly keyId: string; readonly publicKeyPem: string; readonly privateKeyPem: string };
  readonly request: { readonly raw: string; readonly scheme: string };
  readonly tests: readonly CavageTest[];
  readonly canonicalizationExample: {
    readonly headersParam: string;
    readonly created: number;
    readonly request: string;
    readonly signingString: string;
  };
}

const vectors = JSON.parse(
  readFileSync(join(__dirname, '../../../test/fixtures/vectors/cavage12.json'), 'utf8'),
) as CavageVectors;

const publicKey = createPublicKey(vectors.key.publicKeyPem);
const privateKey = createPrivateKey(vectors.key.privateKeyPem);
const { view, body } = parseRawHttpMessage(vectors.request.raw, { scheme: vectors.request.scheme });
// C.1 has no headers parameter and signs Date: the draft's pre-12 default (see the vector's specInconsistency).
const defaultHeaders = ['date'];
const verifyOptions = { key: publicKey, keyAlgorithm: 'rsa-v1_5-sha256', defaultHeaders } as const;
const sign = cavageSigner('rsa-v1_5-sha256', privateKey);

function test(id: string): CavageTest {
  const found = vectors.tests.find((t) => t.id === id);
  if (found === undefined) throw new Error(`no test ${id}`);
  return found;
}

describe('draft-cavage-12 Appendix C vectors', () => {
  it.each(['C.1', 'C.2'])('%s: signing string, verification and byte-exact re-signing', (id) => {
    const vector = test(id);
    const params = parseCavageAuthorization(vector.authorization.value);
    expect(params.keyId).toBe(vectors.key.keyId);
    expect(params.algorithm).toBe('rsa-sha256');
    expect(params.signature.toString('base64')).toBe(vector.signatureB64);
    expect(buildCavageSigningString(view, params, { defaultHeaders })).toBe(vector.signingString);
    expect(verifyCavageSignature(view, params, verifyOptions)).toBe(true);

    const headers = vector.headersParam?.split(' ');
    const signed = signCavage(view, {
      keyId: 'Test',
      algorithm: 'rsa-sha256',
      headers,
      defaultHeaders,
      sign,
    });
    expect(signed.authorization).toBe(vector.authorization.value);
    if (vector.signatureHeader !== undefined) {
      expect(signed.signature).toBe(vector.signatureHeader.value);
      expect(parseCavageSignatureHeader(vector.signatureHeader.value)).toEqual(params);
    }
  });

  it('C.1 read from the request: Authorization and Signature are the same signature', () => {
    const vector = test('C.1');
    for (const [field, value] of [
      ['Authorization', vector.authorization.value],
      ['Signature', vector.signatureHeader?.value ?? ''],
    ]) {
      const found = parseCavage({ ...view, rawHeaders: [...view.rawHeaders, field, value] });
      expect(found?.source).toBe(field.toLowerCase());
      expect(found && verifyCavageSignature(view, found.params, verifyOptions)).toBe(true);
    }
  });

  it('C.3 as printed is refused: (created) and (expires) with rsa-sha256', () => {
    const vector = test('C.3');
    const params = parseCavageAuthorization(vector.authorization.value);
    expect(params.created).toBe(vector.created);
    expect(params.expires).toBe(vector.expires);
    expect(params).toEqual(parseCavageSignatureHeader(vector.signatureHeader?.value ?? ''));
    expect(() => verifyCavageSignature(view, params, verifyOptions)).toThrow(
      expect.objectContaining({ code: 'SIGNATURE_COMPONENT_UNSUPPORTED' }),
    );
  });

  it('C.3 corrected (without the pseudo-headers) verifies and is reproduced', () => {
    const vector = test('C.3');
    const corrected = vector.correctedPositive;
    if (corrected === undefined) throw new Error('no corrected C.3');
    const params = parseCavageSignatureHeader(corrected.signatureHeader);
    expect(buildCavageSigningString(view, params, { defaultHeaders })).toBe(vector.signingStringAsPrinted);
    expect(verifyCavageSignature(view, params, verifyOptions)).toBe(true);
    const signed = signCavage(view, {
      keyId: 'Test',
      algorithm: 'rsa-sha256',
      headers: corrected.headersParam.split(' '),
      sign,
    });
    expect(signed.signature).toBe(corrected.signatureHeader);
  });

  it('a wrong signature or a changed header does not verify', () => {
    const params = parseCavageAuthorization(test('C.2').authorization.value);
    const flipped = Buffer.from(params.signature);
    flipped[0] ^= 1;
    expect(verifyCavageSignature(view, { ...params, signature: flipped }, verifyOptions)).toBe(false);
    const moved = { ...view, target: '/foo?param=value&pet=cat' };
    expect(verifyCavageSignature(moved, params, verifyOptions)).toBe(false);
  });

  it('the request body matches its RFC 3230 Digest', () => {
    const digest = view.rawHeaders[view.rawHeaders.findIndex((h) => h === 'Digest') + 1];
    expect(verifyLegacyDigest(digest, body)).toEqual(['sha-256']);
  });

  it('§2.3 canonicalization: obs-fold, empty header, repeated header, (created) with hs2019', () => {
    const example = vectors.canonicalizationExample;
    const request = parseRawHttpMessage(example.request, { scheme: 'https' }).view;
    const params = {
      headers: example.headersParam.split(' '),
      created: example.created,
      algorithm: 'hs2019',
    };
    expect(buildCavageSigningString(request, params, { defaultHeaders })).toBe(example.signingString);
    expect(example.signingString).toContain('\nx-emptyheader: \n');
    expect(() =>
      buildCavageSigningString(request, { ...params, algorithm: 'rsa-sha256' }, { defaultHeaders }),
    ).toThrow(expect.objectContaining({ code: 'SIGNATURE_COMPONENT_UNSUPPORTED' }));
  });

  it('default headers follow the Mastodon convention when asked', () => {
    expect(cavageDefaultHeaders('hs2019')).toEqual(['(created)']);
    expect(cavageDefaultHeaders(undefined)).toEqual(['(created)']);
    expect(cavageDefaultHeaders('rsa-sha256')).toEqual(['date']);
  });
});
