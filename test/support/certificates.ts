import { execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CaCertificates,
  initCa,
  IssueClientCertOptions,
  issueClientCert,
  IssuedCertificate,
  issueServerCert,
  SubjectSpec,
} from '../../src';

const HOUR = 3_600_000;

/** Hostile subjects (ASN.1 order), each issued by our CA; none may ever authenticate as `admin`. */
export const HOSTILE_SUBJECTS: Record<string, SubjectSpec> = {
  'cn-with-slash': [[{ type: 'CN', value: 'mallory/CN=admin' }]],
  'o-with-cn-before': [[{ type: 'O', value: 'Evil, CN=admin' }], [{ type: 'CN', value: 'mallory' }]],
  'o-with-cn-after': [[{ type: 'CN', value: 'mallory' }], [{ type: 'O', value: 'Evil, CN=admin' }]],
  'two-cns': [[{ type: 'CN', value: 'mallory' }], [{ type: 'CN', value: 'admin' }]],
  'two-cns-multivalued': [
    [
      { type: 'CN', value: 'mallory' },
      { type: 'CN', value: 'admin' },
    ],
  ],
  'cn-utf8-lookalike': [[{ type: 'CN', value: 'ädmin' }]],
  'cn-uppercase': [[{ type: 'CN', value: 'ADMIN' }]],
  'cn-escaped-comma': [[{ type: 'CN', value: 'admin,O=x' }]],
  'cn-trailing-space': [[{ type: 'CN', value: 'admin ' }]],
  'cn-bidi-override': [[{ type: 'CN', value: '\u202enimda' }]],
  'cn-zero-width': [[{ type: 'CN', value: 'ad\u200bmin' }]],
  'cn-backslash': [[{ type: 'CN', value: 'admin\\' }]],
};

/** What each hostile subject maps to with `{ by: 'subject-cn' }`: mallory, or refused with this code. */
export const HOSTILE_CN_OUTCOME: Record<string, string> = {
  'cn-with-slash': 'CERT_SUBJECT_INVALID',
  'o-with-cn-before': 'mallory',
  'o-with-cn-after': 'mallory',
  'two-cns': 'CERT_SUBJECT_INVALID',
  'two-cns-multivalued': 'CERT_SUBJECT_INVALID',
  'cn-utf8-lookalike': 'CERT_SUBJECT_INVALID',
  'cn-uppercase': 'CERT_SUBJECT_INVALID',
  'cn-escaped-comma': 'CERT_SUBJECT_INVALID',
  'cn-trailing-space': 'CERT_SUBJECT_INVALID',
  'cn-bidi-override': 'CERT_SUBJECT_INVALID',
  'cn-zero-width': 'CERT_SUBJECT_INVALID',
  'cn-backslash': 'CERT_SUBJECT_INVALID',
};

export interface TestPki {
  dir: string;
  ca: CaCertificates;
  /** A second, unrelated CA: its certificates must never be accepted. */
  otherCa: CaCertificates;
  server: IssuedCertificate;
  issue(name: string, options?: IssueClientCertOptions): Promise<IssuedCertificate>;
  issueFromOtherCa(name: string, options?: IssueClientCertOptions): Promise<IssuedCertificate>;
  /** A certificate that expired an hour ago (issued by our CA). */
  issueExpired(name: string): Promise<IssuedCertificate>;
  crlPath: string;
  caBundlePath: string;
  cleanup(): Promise<void>;
}

/** Our CA, a second CA, and a server certificate for 127.0.0.1, in a temporary directory. */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'kpa-pki-'));
  const caDir = join(dir, 'ca');
  const otherDir = join(dir, 'other-ca');
  const ca = await initCa(caDir, { cn: 'Test' });
  const otherCa = await initCa(otherDir, { cn: 'Other' });
  const server = await issueServerCert(caDir, '127.0.0.1');
  return {
    dir,
    ca,
    otherCa,
    server,
    issue: (name, options) => issueClientCert(caDir, name, { pkcs12: false, ...options }),
    issueFromOtherCa: (name, options) => issueClientCert(otherDir, name, { pkcs12: false, ...options }),
    issueExpired: (name) =>
      issueClientCert(caDir, name, {
        pkcs12: false,
        notBefore: new Date(Date.now() - 3 * HOUR),
        notAfter: new Date(Date.now() - HOUR),
      }),
    crlPath: ca.layout.crl,
    caBundlePath: ca.layout.caBundle,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string> | string[];
  /** Client certificate and key (HTTPS). */
  client?: IssuedCertificate;
  /** Trusted roots for the server certificate (HTTPS). */
  ca?: string;
  /** Source address of the connection (127.0.0.x): who the app sees as the TCP peer. */
  localAddress?: string;
  body?: string;
  /** Reuse connections through this agent instead of a fresh one per request. */
  agent?: Agent;
}

export interface SendResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: { code?: string; username?: string; keyId?: string; method?: string; roles?: string[] } & Record<
    string,
    unknown
  >;
}

/**
 * One request on a fresh connection (no agent, no TLS session reuse), with a
 * choice of source address and client certificate. Headers may be a flat
 * [name, value, ...] list to send duplicates.
 */
export function send(url: string, options: SendOptions = {}): Promise<SendResult> {
  const target = new URL(url);
  const https = target.protocol === 'https:';
  const headers = options.headers ?? {};
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: options.method ?? 'GET',
        agent: options.agent ?? false,
        localAddress: options.localAddress,
        ...(https
          ? {
              ca: options.ca,
              cert: options.client ? options.client.certPem + options.client.chainPem : undefined,
              key: options.client?.keyPem,
              servername: undefined,
            }
          : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let body: SendResult['body'] = {};
          try {
            body = JSON.parse(text) as SendResult['body'];
          } catch {
            body = {};
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
      },
    );
    req.on('error', reject);
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) req.appendHeader(headers[i], headers[i + 1]);
    } else {
      for (const [name, value] of Object.entries(headers)) req.setHeader(name, value);
    }
    req.end(options.body);
  });
}

/** What `send` and `tlsGet` need of a client: leaf, chain after it, key. */
export type ClientCredentials = Pick<IssuedCertificate, 'certPem' | 'chainPem' | 'keyPem'> & {
  certificate: X509Certificate;
};

const openssl = (...args: string[]): string =>
  execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/**
 * Certificates our CA module refuses to produce, made with the openssl CLI from the test
 * PKI's keys (the red team's recipes):
 *  - `nameConstrained`: an intermediate issued by our root with a NON-critical nameConstraints
 *    extension (permitted DNS:example.com), and a leaf it issued for `cn` whose SAN dNSName
 *    `cn`.attacker.test lies outside it (OpenSSL refuses it: permitted subtree violation);
 *  - `weak`: an RSA-1024 leaf for `cn`, signed with SHA-1 by our real intermediate.
 */
export function craftUnusualClient(
  pki: TestPki,
  kind: 'nameConstrained' | 'weak',
  cn: string,
): ClientCredentials {
  const dir = mkdtempSync(join(pki.dir, `${kind}-`));
  const layout = pki.ca.layout;
  const file = (name: string) => join(dir, name);
  writeFileSync(
    file('ext.cnf'),
    [
      '[ncca]',
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      'keyUsage=critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
      'nameConstraints=permitted;DNS:example.com',
      '[leaf]',
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=clientAuth',
      'authorityKeyIdentifier=keyid',
      `subjectAltName=DNS:${cn}.attacker.test`,
      '',
    ].join('\n'),
  );
  const leafFrom = (issuerCert: string, issuerKey: string, digest: string) => {
    openssl('req', '-new', '-key', file('leaf.key'), '-subj', `/CN=${cn}`, '-out', file('leaf.csr'));
    openssl(
      'x509',
      '-req',
      `-${digest}`,
      '-in',
      file('leaf.csr'),
      '-CA',
      issuerCert,
      '-CAkey',
      issuerKey,
      '-set_serial',
      '0x' + randomBytes(8).toString('hex'),
      '-days',
      '2',
      '-out',
      file('leaf.pem'),
      '-extfile',
      file('ext.cnf'),
      '-extensions',
      'leaf',
    );
  };
  let chainPem: string;
  if (kind === 'nameConstrained') {
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file('ncca.key'));
    openssl(
      'req',
      '-new',
      '-key',
      file('ncca.key'),
      '-subj',
      '/CN=Partner CA (example.com only)',
      '-out',
      file('ncca.csr'),
    );
    openssl(
      'x509',
      '-req',
      '-sha256',
      '-in',
      file('ncca.csr'),
      '-CA',
      layout.rootCert,
      '-CAkey',
      layout.rootKey,
      '-set_serial',
      '0x' + randomBytes(8).toString('hex'),
      '-days',
      '2',
      '-out',
      file('ncca.pem'),
      '-extfile',
      file('ext.cnf'),
      '-extensions',
      'ncca',
    );
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file('leaf.key'));
    leafFrom(file('ncca.pem'), file('ncca.key'), 'sha256');
    chainPem = readFileSync(file('ncca.pem'), 'utf8');
  } else {
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', file('leaf.key'));
    leafFrom(layout.intermediateCert, layout.intermediateKey, 'sha1');
    chainPem = pki.ca.intermediatePem;
  }
  const certPem = readFileSync(file('leaf.pem'), 'utf8');
  return {
    certPem,
    chainPem,
    keyPem: readFileSync(file('leaf.key'), 'utf8'),
    certificate: new X509Certificate(certPem),
  };
}
