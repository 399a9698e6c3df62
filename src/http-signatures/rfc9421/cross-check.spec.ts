import { generateKeyPairSync } from 'node:crypto';
import { createSigner, createVerifier, httpbis } from 'http-message-signatures';
import { signWithAlgorithm, verifyWithAlgorithm, type KeyAlgorithm } from '../../keys/key-algorithm';
import { computeContentDigest } from '../digest/content-digest';
import type { HttpMessageView } from '../http-message';
import { parseRfc9421, selectSignature } from './signature-input.parser';
import { signRfc9421 } from './signer';
import { verifyRfc9421Signature } from './verifier';

/*
 * Interoperability with the independent http-message-signatures package (test
 * only). RSA-PSS is left out: that package signs PSS with the maximum salt
 * length, while RFC 9421 and key-algorithm.ts use 64 bytes.
 */

const body = Buffer.from('{"hello": "world"}');
const headers: Record<string, string> = {
  'Content-Type': 'application/json',
  'Content-Digest': computeContentDigest(body),
  Date: 'Tue, 20 Apr 2021 02:07:55 GMT',
};
const fields = ['@method', '@authority', '@path', '@query', 'content-type', 'content-digest'];

function viewOf(headerMap: Record<string, string | string[]>): HttpMessageView {
  const rawHeaders = Object.entries(headerMap).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value]).flatMap((v) => [name, v]),
  );
  return {
    method: 'POST',
    scheme: 'https',
    authority: 'example.com',
    target: '/foo?param=Value&Pet=dog',
    rawHeaders,
  };
}

describe.each([
  ['ed25519', generateKeyPairSync('ed25519')],
  ['ecdsa-p256-sha256', generateKeyPairSync('ec', { namedCurve: 'P-256' })],
  ['rsa-v1_5-sha256', generateKeyPairSync('rsa', { modulusLength: 2048 })],
] as const)('cross-check with http-message-signatures: %s', (alg, { privateKey, publicKey }) => {
  const algorithm: KeyAlgorithm = alg;
  const request = { method: 'POST', url: 'https://example.com/foo?param=Value&Pet=dog', headers };

  it('accepts what the package signs', async () => {
    const signed = await httpbis.signMessage(
      {
        key: createSigner(privateKey, alg, 'test-key'),
        name: 'theirs',
        fields,
        params: ['created', 'keyid', 'alg', 'expires'],
        paramValues: { created: new Date(1_700_000_000_000) },
      },
      request,
    );
    const view = viewOf(signed.headers);
    const entry = selectSignature(parseRfc9421(view), { label: 'theirs' });
    expect(entry.params).toMatchObject({ keyid: 'test-key', alg, created: 1_700_000_000 });
    expect(entry.components.map((c) => c.name)).toEqual(fields);
    const verify = (base: Buffer, signature: Buffer) =>
      verifyWithAlgorithm(algorithm, publicKey, base, signature);
    expect(verifyRfc9421Signature(view, entry, verify)).toBe(true);
    expect(verifyRfc9421Signature({ ...view, target: '/foo?param=Value&Pet=cat' }, entry, verify)).toBe(
      false,
    );
  });

  it('is accepted by the package', async () => {
    const view = viewOf(headers);
    const ours = signRfc9421(view, {
      label: 'ours',
      components: fields.map((name) => ({ name })),
      params: { created: Math.floor(Date.now() / 1000), keyid: 'test-key', alg },
      sign: (base) => signWithAlgorithm(algorithm, privateKey, base),
    });
    const keyLookup = async () => ({ id: 'test-key', algs: [alg], verify: createVerifier(publicKey, alg) });
    const signedRequest = {
      ...request,
      headers: { ...headers, 'Signature-Input': ours.signatureInput, Signature: ours.signature },
    };
    await expect(httpbis.verifyMessage({ keyLookup }, signedRequest)).resolves.toBe(true);
    const tampered = {
      ...signedRequest,
      headers: { ...signedRequest.headers, 'Content-Type': 'text/plain' },
    };
    await expect(httpbis.verifyMessage({ keyLookup }, tampered)).resolves.toBe(false);
  });
});
