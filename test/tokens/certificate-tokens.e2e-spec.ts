import { X509Certificate } from 'node:crypto';
import { decodeJwt } from 'jose';
import { CertificateRegistry, encodeForwardedCertificate, IssuedCertificate } from '../../src';
import { createTestPki, send, TestPki } from '../support/certificates';
import { createTestApp, TestApp } from '../support/test-app';
import { serverKeys, TOKEN_CONTROLLERS, whoami } from './token-test-support';

/** A client certificate (forwarded by a trusted proxy: this process, from 127.0.0.1) as the key proof. */
describe('tokens for client-certificate logins', () => {
  const TRUSTED = '127.0.0.1';
  let pki: TestPki;
  let cert: IssuedCertificate;
  let t: TestApp;
  let fingerprint: string;

  beforeAll(async () => {
    pki = await createTestPki();
    cert = await pki.issue('alice');
    t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      controllers: TOKEN_CONTROLLERS,
      options: {
        clientCertificate: { format: 'nginx', trustedProxies: [TRUSTED], caBundle: pki.caBundlePath },
        responseSigning: { keys: serverKeys().keys },
        tokens: {},
      },
    });
    const alice = await t.addUser('alice', ['reader', 'writer']);
    fingerprint = (await t.app.get(CertificateRegistry).register(alice, cert.certPem, { roles: ['reader'] }))
      .fingerprint;
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await pki?.cleanup();
  });

  const tokenRequest = (body: Record<string, unknown> = {}) =>
    send(`${t.server}/auth/token`, {
      method: 'POST',
      localAddress: TRUSTED,
      headers: [
        ...encodeForwardedCertificate('nginx', cert.certificate),
        'X-SSL-Client-Verify',
        'SUCCESS',
        'content-type',
        'application/json',
      ],
      body: JSON.stringify(body),
    });

  it('issues an access token (no refresh token) that works without the certificate', async () => {
    const res = await tokenRequest();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tokenType: 'Bearer', roles: ['reader'] });
    expect(res.body.refreshToken).toBeUndefined();
    const token = res.body.accessToken as string;
    expect(decodeJwt(token)).toMatchObject({ cred: 'certificate', key_id: fingerprint });
    const me = await whoami(t.server, `Bearer ${token}`).expect(200);
    expect(me.body).toMatchObject({ method: 'access-token', keyId: fingerprint, roles: ['reader'] });
  });

  it('bindToKey binds to the certificate (cnf.x5t#S256); without it the token is refused', async () => {
    const res = await tokenRequest({ bindToKey: true });
    const x5t = Buffer.from(new X509Certificate(cert.certPem).fingerprint256.replace(/:/g, ''), 'hex');
    expect(decodeJwt(res.body.accessToken as string).cnf).toEqual({ 'x5t#S256': x5t.toString('base64url') });
    const bare = await whoami(t.server, `Bearer ${res.body.accessToken}`);
    expect([bare.status, bare.body.code]).toEqual([401, 'CERT_MISSING']);
  });

  it('revoking the certificate registration ends its access tokens', async () => {
    const res = await tokenRequest();
    await whoami(t.server, `Bearer ${res.body.accessToken}`).expect(200);
    await t.app.get(CertificateRegistry).revoke(fingerprint);
    const after = await whoami(t.server, `Bearer ${res.body.accessToken}`);
    expect([after.status, after.body.code]).toEqual([401, 'CERT_REVOKED']);
  });
});
