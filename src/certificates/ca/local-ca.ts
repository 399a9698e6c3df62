import { randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { CertificateError, withCertificateErrors, withCertificateErrorsAsync } from '../certificate-error';
import { certificateFingerprints, CertificateFingerprints } from '../certificate-fingerprint';
import { encodePem } from '../pem';
import { certificateSerialNumber, normalizeSerialNumber } from '../serial-number';
import {
  caLayout,
  CaLayout,
  ensurePrivateDir,
  exists,
  issuedFiles,
  IssuedFiles,
  readText,
  writeFileAtomic,
} from './ca-files';
import { exportPkcs12, Pkcs12Options, Pkcs12Result } from './pkcs12';
import { SubjectSpec, toPeculiarName } from './subject-spec';

/**
 * A small two-level CA (root -> intermediate -> leaves) for development, tests
 * and the CLI. Keys are ECDSA P-256, generated with WebCrypto and written as
 * PKCS#8 PEM. All certificates are built with @peculiar/x509, so the module
 * works without openssl; openssl is only used for PKCS#12 export.
 */

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const HOUR = 3_600_000;
const DEFAULT_CN = 'keypair-auth local CA';

type PrivateKey = webcrypto.CryptoKey;

export interface InitCaOptions {
  /** Prefix of the CA common names: "<cn> Root" and "<cn> Intermediate". */
  readonly cn?: string;
  /** Issue time (tests). Default now. */
  readonly now?: Date;
}

export interface CaCertificates {
  readonly layout: CaLayout;
  readonly rootPem: string;
  readonly intermediatePem: string;
  /** Intermediate followed by root. */
  readonly caBundlePem: string;
  readonly crlPem: string;
}

export interface SubjectAltNameSpec {
  readonly dns?: readonly string[];
  readonly uri?: readonly string[];
  readonly email?: readonly string[];
  readonly ip?: readonly string[];
}

export interface IssueClientCertOptions {
  /** Lifetime from now. Default 12. Ignored when notAfter is given. */
  readonly hours?: number;
  /** Custom subject (tests: hostile names). Default CN=<name>. */
  readonly subject?: SubjectSpec;
  readonly subjectAltNames?: SubjectAltNameSpec;
  /** Override validity (tests: expired or not-yet-valid certificates). */
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** EKU OIDs. Default [clientAuth]; an empty list omits the extension. */
  readonly extendedKeyUsages?: readonly string[];
  /** PKCS#12 export options, or false to skip it. Default: try with an empty passphrase. */
  readonly pkcs12?: Pkcs12Options | false;
  /** Replace an existing certificate of the same name. Default false. */
  readonly overwrite?: boolean;
  /** Reference time for the default validity (tests). Default now. */
  readonly now?: Date;
}

export interface IssueServerCertOptions {
  /** Lifetime from now. Default 90 days. */
  readonly hours?: number;
  readonly now?: Date;
  readonly overwrite?: boolean;
}

export interface IssuedCertificate {
  readonly name: string;
  /** Normalised serial (uppercase hex, no leading zeros), as revoke() expects. */
  readonly serialNumber: string;
  readonly certificate: X509Certificate;
  readonly certPem: string;
  readonly keyPem: string;
  /** The issuing intermediate. */
  readonly chainPem: string;
  readonly fingerprints: CertificateFingerprints;
  readonly files: IssuedFiles;
  /** Present for client certificates. */
  readonly pkcs12?: Pkcs12Result;
}

export interface RevokeOptions {
  readonly now?: Date;
  /** Hours until nextUpdate. Default 168 (7 days). */
  readonly nextUpdateHours?: number;
}

export interface RevocationResult {
  readonly crlPem: string;
  readonly crlPath: string;
  readonly revokedSerials: readonly string[];
  readonly crlNumber: number;
}

interface RevocationState {
  crlNumber: number;
  revoked: { serial: string; revokedAt: string }[];
}

interface LoadedCa {
  readonly layout: CaLayout;
  readonly intermediate: x509.X509Certificate;
  readonly intermediateKey: PrivateKey;
  readonly intermediatePem: string;
}

function caFailure(message: string, cause?: unknown): CertificateError {
  return new CertificateError('CERT_CA_OPERATION_FAILED', message, { cause });
}

/** A random 16-byte serial whose INTEGER encoding is positive and exactly 16 bytes. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0] & 0x7f || 0x01;
  return bytes.toString('hex');
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
}

async function privateKeyPem(key: PrivateKey): Promise<string> {
  return encodePem(new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', key)), 'PRIVATE KEY');
}

async function importPrivateKey(pem: string): Promise<PrivateKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, EC, false, ['sign']);
}

function pemOf(cert: x509.X509Certificate): string {
  return encodePem(new Uint8Array(cert.rawData), 'CERTIFICATE');
}

function derInteger(value: number): Uint8Array {
  const bytes: number[] = [];
  let rest = value;
  do {
    bytes.unshift(rest & 0xff);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  if (bytes[0] & 0x80) bytes.unshift(0);
  return Uint8Array.from([0x02, bytes.length, ...bytes]);
}

/**
 * Creates root and intermediate in `dir` (created with mode 0700), the CA
 * bundle and an empty CRL. Refuses to overwrite an existing CA.
 */
export async function initCa(dir: string, options: InitCaOptions = {}): Promise<CaCertificates> {
  const layout = caLayout(dir);
  if (await exists(layout.rootKey)) throw caFailure(`a CA already exists in ${dir}`);
  const now = options.now ?? new Date();
  const cn = options.cn ?? DEFAULT_CN;
  await ensurePrivateDir(dir);

  const rootKeys = await generateKeys();
  const root = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: toPeculiarName([[{ type: 'CN', value: `${cn} Root` }]]),
      notBefore: new Date(now.getTime() - HOUR),
      notAfter: new Date(now.getTime() + 10 * 365 * 24 * HOUR),
      keys: rootKeys,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );

  const intermediateKeys = await generateKeys();
  const intermediate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: toPeculiarName([[{ type: 'CN', value: `${cn} Intermediate` }]]),
      issuer: root.subjectName,
      notBefore: new Date(now.getTime() - HOUR),
      notAfter: new Date(now.getTime() + 5 * 365 * 24 * HOUR),
      publicKey: intermediateKeys.publicKey,
      signingKey: rootKeys.privateKey,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(intermediateKeys.publicKey, false, webcrypto),
        await x509.AuthorityKeyIdentifierExtension.create(root, false, webcrypto),
      ],
    },
    webcrypto,
  );

  const rootPem = pemOf(root);
  const intermediatePem = pemOf(intermediate);
  await writeFileAtomic(layout.rootKey, await privateKeyPem(rootKeys.privateKey), 0o600);
  await writeFileAtomic(layout.intermediateKey, await privateKeyPem(intermediateKeys.privateKey), 0o600);
  await writeFileAtomic(layout.rootCert, rootPem, 0o644);
  await writeFileAtomic(layout.intermediateCert, intermediatePem, 0o644);
  await writeFileAtomic(layout.caBundle, intermediatePem + rootPem, 0o644);

  const ca: LoadedCa = {
    layout,
    intermediate,
    intermediateKey: intermediateKeys.privateKey,
    intermediatePem,
  };
  const state: RevocationState = { crlNumber: 0, revoked: [] };
  const { crlPem } = await writeCrl(ca, state, now, 168);
  return { layout, rootPem, intermediatePem, caBundlePem: intermediatePem + rootPem, crlPem };
}

async function loadCa(dir: string): Promise<LoadedCa> {
  const layout = caLayout(dir);
  const intermediatePem = await readText(layout.intermediateCert, 'intermediate certificate');
  const keyPem = await readText(layout.intermediateKey, 'intermediate key');
  return withCertificateErrorsAsync(
    'CERT_CA_OPERATION_FAILED',
    `CA files in ${dir} are invalid`,
    async () => ({
      layout,
      intermediate: new x509.X509Certificate(intermediatePem),
      intermediateKey: await importPrivateKey(keyPem),
      intermediatePem,
    }),
  );
}

const CLIENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * Issues a client certificate signed by the intermediate: EKU clientAuth,
 * keyUsage digitalSignature, random positive 16-byte serial, subject CN=<name>
 * unless `subject` is given. Writes cert/key/chain/fullchain PEM under
 * clients/<name>/ and, when openssl is available, <name>.p12.
 */
export async function issueClientCert(
  dir: string,
  name: string,
  options: IssueClientCertOptions = {},
): Promise<IssuedCertificate> {
  if (!CLIENT_NAME.test(name)) {
    throw new CertificateError(
      'CERT_CONFIG_INVALID',
      'client name must be 1-64 characters of [A-Za-z0-9._@-]',
    );
  }
  const now = options.now ?? new Date();
  const hours = options.hours ?? 12;
  if (!(hours > 0)) throw new CertificateError('CERT_CONFIG_INVALID', 'hours must be positive');
  const ekus = options.extendedKeyUsages ?? [x509.ExtendedKeyUsage.clientAuth];
  const san = options.subjectAltNames;
  const sanEntries: x509.JsonGeneralName[] = [
    ...(san?.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(san?.email ?? []).map((value) => ({ type: 'email' as const, value })),
    ...(san?.uri ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(san?.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const issued = await issueLeaf(dir, 'clients', name, {
    subject: options.subject ?? [[{ type: 'CN', value: name }]],
    notBefore: options.notBefore ?? new Date(now.getTime() - 60_000),
    notAfter: options.notAfter ?? new Date(now.getTime() + hours * HOUR),
    extensions: [
      ...(ekus.length > 0 ? [new x509.ExtendedKeyUsageExtension([...ekus], false)] : []),
      ...(sanEntries.length > 0 ? [new x509.SubjectAlternativeNameExtension(sanEntries, false)] : []),
    ],
    overwrite: options.overwrite ?? false,
  });
  const pkcs12 =
    options.pkcs12 === false
      ? ({ written: false, reason: 'PKCS#12 export disabled' } as const)
      : await exportPkcs12(
          {
            certPath: issued.files.cert,
            keyPath: issued.files.key,
            chainPath: issued.files.chain,
            outPath: issued.files.p12,
            friendlyName: name,
          },
          options.pkcs12,
        );
  return { ...issued, pkcs12 };
}

/** Issues a TLS server certificate: CN=<host>, SAN DNS <host> (or IP) plus IP 127.0.0.1, EKU serverAuth. */
export async function issueServerCert(
  dir: string,
  host: string,
  options: IssueServerCertOptions = {},
): Promise<IssuedCertificate> {
  const hostIsIp = isIP(host) !== 0;
  if (
    !hostIsIp &&
    !/^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*$/.test(host)
  ) {
    throw new CertificateError('CERT_CONFIG_INVALID', 'host must be a DNS name or an IP address');
  }
  const now = options.now ?? new Date();
  const hours = options.hours ?? 90 * 24;
  const sans: x509.JsonGeneralName[] = hostIsIp
    ? [{ type: 'ip', value: host }]
    : [{ type: 'dns', value: host }];
  if (host !== '127.0.0.1') sans.push({ type: 'ip', value: '127.0.0.1' });
  return issueLeaf(dir, 'servers', host.replace(/:/g, '_'), {
    subject: [[{ type: 'CN', value: host }]],
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + hours * HOUR),
    extensions: [
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(sans, false),
    ],
    overwrite: options.overwrite ?? false,
  });
}

interface LeafParams {
  readonly subject: SubjectSpec;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: readonly x509.Extension[];
  readonly overwrite: boolean;
}

async function issueLeaf(
  dir: string,
  kind: 'clients' | 'servers',
  name: string,
  params: LeafParams,
): Promise<Omit<IssuedCertificate, 'pkcs12'>> {
  if (!(params.notBefore.getTime() < params.notAfter.getTime())) {
    throw new CertificateError('CERT_CONFIG_INVALID', 'notBefore must be before notAfter');
  }
  const ca = await loadCa(dir);
  const files = issuedFiles(dir, kind, name);
  if (!params.overwrite && (await exists(files.cert))) {
    throw caFailure(`a certificate named ${JSON.stringify(name)} already exists (use overwrite)`);
  }
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: toPeculiarName(params.subject),
      issuer: ca.intermediate.subjectName,
      notBefore: params.notBefore,
      notAfter: params.notAfter,
      publicKey: keys.publicKey,
      signingKey: ca.intermediateKey,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
        await x509.AuthorityKeyIdentifierExtension.create(ca.intermediate, false, webcrypto),
        ...params.extensions,
      ],
    },
    webcrypto,
  );
  const certPem = pemOf(cert);
  const keyPem = await privateKeyPem(keys.privateKey);
  await ensurePrivateDir(files.dir);
  await writeFileAtomic(files.key, keyPem, 0o600);
  await writeFileAtomic(files.cert, certPem, 0o644);
  await writeFileAtomic(files.chain, ca.intermediatePem, 0o644);
  await writeFileAtomic(files.fullChain, certPem + ca.intermediatePem, 0o644);
  const certificate = new X509Certificate(Buffer.from(cert.rawData));
  return {
    name,
    serialNumber: certificateSerialNumber(certificate),
    certificate,
    certPem,
    keyPem,
    chainPem: ca.intermediatePem,
    fingerprints: certificateFingerprints(certificate),
    files,
  };
}

/**
 * Records `serial` as revoked and rewrites crl.pem, signed by the
 * intermediate, with a fresh thisUpdate, nextUpdate = now + nextUpdateHours
 * and an incremented cRLNumber. Revoking an already revoked serial only
 * re-signs the CRL.
 */
export async function revoke(
  dir: string,
  serial: string,
  options: RevokeOptions = {},
): Promise<RevocationResult> {
  const normalized = normalizeSerialNumber(serial);
  const ca = await loadCa(dir);
  const now = options.now ?? new Date();
  const state = await readRevocationState(ca.layout);
  if (!state.revoked.some((entry) => entry.serial === normalized)) {
    state.revoked.push({ serial: normalized, revokedAt: now.toISOString() });
  }
  return writeCrl(ca, state, now, options.nextUpdateHours ?? 168);
}

async function readRevocationState(layout: CaLayout): Promise<RevocationState> {
  const text = await readText(layout.revocations, 'revocation state');
  return withCertificateErrors('CERT_CA_OPERATION_FAILED', `${layout.revocations} is invalid`, () => {
    const parsed = JSON.parse(text) as RevocationState;
    if (!Number.isSafeInteger(parsed.crlNumber) || !Array.isArray(parsed.revoked))
      throw new Error('bad shape');
    return {
      crlNumber: parsed.crlNumber,
      revoked: parsed.revoked.map((entry) => ({
        serial: normalizeSerialNumber(entry.serial),
        revokedAt: new Date(entry.revokedAt).toISOString(),
      })),
    };
  });
}

async function writeCrl(
  ca: LoadedCa,
  state: RevocationState,
  now: Date,
  nextUpdateHours: number,
): Promise<RevocationResult> {
  if (!(nextUpdateHours > 0))
    throw new CertificateError('CERT_CONFIG_INVALID', 'nextUpdateHours must be positive');
  const crlNumber = state.crlNumber + 1;
  const crl = await x509.X509CrlGenerator.create(
    {
      issuer: ca.intermediate.subjectName,
      // Backdated a minute, like notBefore, so a verifier whose clock lags slightly does not see a future CRL.
      thisUpdate: new Date(now.getTime() - 60_000),
      nextUpdate: new Date(now.getTime() + nextUpdateHours * HOUR),
      signingKey: ca.intermediateKey,
      signingAlgorithm: SIGNING,
      extensions: [
        await x509.AuthorityKeyIdentifierExtension.create(ca.intermediate, false, webcrypto),
        new x509.Extension('2.5.29.20', false, derInteger(crlNumber)),
      ],
      entries: state.revoked.map((entry) => ({
        // The INTEGER bytes: pad to whole bytes and keep it positive.
        serialNumber: positiveSerialHex(entry.serial),
        revocationDate: new Date(entry.revokedAt),
      })),
    },
    webcrypto,
  );
  const crlPem = encodePem(new Uint8Array(crl.rawData), 'X509 CRL');
  await writeFileAtomic(ca.layout.crl, crlPem, 0o644);
  const next: RevocationState = { crlNumber, revoked: state.revoked };
  await writeFileAtomic(ca.layout.revocations, `${JSON.stringify(next, null, 2)}\n`, 0o644);
  return {
    crlPem,
    crlPath: ca.layout.crl,
    revokedSerials: state.revoked.map((entry) => entry.serial),
    crlNumber,
  };
}

function positiveSerialHex(normalized: string): string {
  const even = normalized.length % 2 === 0 ? normalized : `0${normalized}`;
  return parseInt(even.slice(0, 1), 16) >= 8 ? `00${even}` : even;
}
