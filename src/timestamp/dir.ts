/**
 * The embedded TSA's directory: `jrchain tsa init` writes it, `jrchain tsa serve` and the node read it.
 *
 *   root.pem      root CA certificate: the trust anchor verifiers configure
 *   root.key      root CA private key (PKCS#8 PEM, mode 0600): only needed to issue a new TSA certificate
 *   tsa.pem       TSA certificate (critical EKU timeStamping only)
 *   tsa.key       TSA private key (PKCS#8 PEM, mode 0600)
 *   serial.state  next serial / reserved high-water mark (see serial.ts)
 *   root.crl      the root's CRL (PEM), from `jrchain tsa crl`: revocation data for evidence records
 *   tsa.lock      present while a process uses the directory
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdir, open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toBase64 } from '../core/bytes.ts';
import { createTsaCredentials, issueCrl, type TsaKeyAlgorithm } from './certs.ts';
import { TimestampError, TimestampErrorCode } from './errors.ts';
import { acquireLock, FileSerialStore } from './serial.ts';
import { EmbeddedTsa, type EmbeddedTsaOptions } from './tsa.ts';
import { certToPem, parsePemCertificates } from './x509.ts';

export const TsaFiles = {
  rootCert: 'root.pem',
  rootKey: 'root.key',
  tsaCert: 'tsa.pem',
  tsaKey: 'tsa.key',
} as const;

/** Not part of `init`: written by `jrchain tsa crl`. */
export const TSA_CRL_FILE = 'root.crl';

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Creates `path` exclusively (never following or reusing an existing file) with `mode`, and fsyncs it. */
async function writeNew(path: string, contents: string, mode: number): Promise<void> {
  const fh = await open(path, 'wx', mode);
  try {
    await fh.writeFile(contents);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface InitResult {
  dir: string;
  files: string[];
  tsaSubject: string;
  rootSubject: string;
}

export interface TsaInitOptions {
  organization: string;
  now: Date;
  force?: boolean;
  /** The root's and the TSA's key algorithm; default P-256 (`sm2`: SM2 certificates and tokens). */
  keyAlgorithm?: TsaKeyAlgorithm;
}

/**
 * Creates a root CA and a TSA certificate in `dir`. Refuses (TSA_KEY_EXISTS) when key files exist, unless
 * `force`; then it replaces the keys and certificates and keeps the serial state, so serials stay unique.
 * Refuses (TSA_DIR_LOCKED) while a running TSA holds the directory.
 */
export async function initTsaDir(dir: string, opts: TsaInitOptions): Promise<InitResult> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const release = await acquireLock(dir);
  try {
    return await writeTsaFiles(dir, opts);
  } finally {
    await release();
  }
}

async function writeTsaFiles(dir: string, opts: TsaInitOptions): Promise<InitResult> {
  const paths = Object.values(TsaFiles).map((f) => join(dir, f));
  const present = [];
  for (const p of paths) if (await exists(p)) present.push(p);
  if (present.length > 0 && !opts.force) {
    throw new TimestampError(
      TimestampErrorCode.keyExists,
      `${present.join(', ')} already exist; pass --force to replace them`,
      { files: present },
    );
  }
  const creds = await createTsaCredentials({
    organization: opts.organization,
    now: opts.now,
    ...(opts.keyAlgorithm === undefined ? {} : { keyAlgorithm: opts.keyAlgorithm }),
  });
  for (const p of present) await unlink(p);
  const pkcs8 = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }).toString();
  await writeNew(join(dir, TsaFiles.rootKey), pkcs8(creds.rootKey), 0o600);
  await writeNew(join(dir, TsaFiles.tsaKey), pkcs8(creds.tsaKey), 0o600);
  await writeNew(join(dir, TsaFiles.rootCert), certToPem(creds.rootCert), 0o644);
  await writeNew(join(dir, TsaFiles.tsaCert), certToPem(creds.tsaCert), 0o644);
  const [root] = parsePemCertificates(certToPem(creds.rootCert), 'root');
  const [tsa] = parsePemCertificates(certToPem(creds.tsaCert), 'tsa');
  return { dir, files: paths, rootSubject: root!.subjectText, tsaSubject: tsa!.subjectText };
}

async function readConfigFile(dir: string, name: string): Promise<string> {
  try {
    return await readFile(join(dir, name), 'utf8');
  } catch (err) {
    throw new TimestampError(
      TimestampErrorCode.badConfig,
      `cannot read ${join(dir, name)} (run \`jrchain tsa init --dir ${dir}\` first)`,
      undefined,
      { cause: err },
    );
  }
}

/** Loads the TSA certificate and key from `dir` and wires them to a FileSerialStore there (not started). */
export async function openEmbeddedTsa(
  dir: string,
  opts: Omit<EmbeddedTsaOptions, 'certificate' | 'privateKey' | 'serials'> = {},
): Promise<EmbeddedTsa> {
  const certPem = await readConfigFile(dir, TsaFiles.tsaCert);
  const keyPem = await readConfigFile(dir, TsaFiles.tsaKey);
  let certificate: Uint8Array;
  let privateKey: KeyObject;
  try {
    certificate = parsePemCertificates(certPem, TsaFiles.tsaCert)[0]!.der;
    privateKey = createPrivateKey(keyPem);
  } catch (err) {
    throw new TimestampError(TimestampErrorCode.badConfig, `${dir}: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
  return new EmbeddedTsa({ ...opts, certificate, privateKey, serials: new FileSerialStore(dir) });
}

/**
 * Issues the root's CRL (RFC 5280) for the embedded TSA's chain, revoking nothing, valid from `now` for `days`,
 * and writes it as PEM to `out` (default root.crl in `dir`, replaced atomically enough for a file read at
 * node start). Its CRL number is `now` in milliseconds, so later CRLs have larger numbers. Evidence records
 * carry it (node config `tsa.crlFiles`, docs/long-term.md).
 */
export async function issueTsaCrl(
  dir: string,
  opts: { now: Date; days: number; out?: string },
): Promise<{ file: string; issuer: string; nextUpdate: Date }> {
  const rootPem = await readConfigFile(dir, TsaFiles.rootCert);
  const keyPem = await readConfigFile(dir, TsaFiles.rootKey);
  let issuer: ReturnType<typeof parsePemCertificates>[number];
  let signingKey: KeyObject;
  try {
    issuer = parsePemCertificates(rootPem, TsaFiles.rootCert)[0]!;
    signingKey = createPrivateKey(keyPem);
  } catch (err) {
    throw new TimestampError(TimestampErrorCode.badConfig, `${dir}: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
  const nextUpdate = new Date(opts.now.getTime() + opts.days * 86_400_000);
  const crl = issueCrl({
    issuer,
    signingKey,
    thisUpdate: opts.now,
    nextUpdate,
    number: BigInt(opts.now.getTime()),
  });
  const body = toBase64(crl).replace(/.{1,64}/g, '$&\n');
  const file = opts.out ?? join(dir, TSA_CRL_FILE);
  await writeFile(file, `-----BEGIN X509 CRL-----\n${body}-----END X509 CRL-----\n`, { mode: 0o644 });
  return { file, issuer: issuer.subjectText, nextUpdate };
}
