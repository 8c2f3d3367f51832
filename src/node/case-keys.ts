/**
 * An institution's case secrets at rest (ADR 011, docs/cases.md#confidentiality): its X25519 encryption key file,
 * and the case-key store, one file per case. Both live in the node home (or wherever the CLI is told), the
 * directory mode 0700 and every file 0600, written atomically. Shredding a case deletes its store file after
 * overwriting it; destroying an encryption key does the same to the key file.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { toHex, tryFromHex } from '../core/bytes.ts';
import { CASE_KEY_LENGTH, isCaseRef, x25519PublicKey } from '../core/case-seal.ts';
import { JrError } from '../core/errors.ts';
import {
  decryptSeed,
  ENCRYPTED_KEY_FORMAT,
  type EncryptedKeyDoc,
  encryptSeed,
  malformedEncrypted,
} from '../core/key-crypt.ts';
import { KEY_PASSPHRASE_ENV, KeyErrorCode, KeyFileError, writeSecretFile } from '../core/keys.ts';

export const ENCRYPTION_KEY_FORMAT = 'jrchain-enc-key/v1';
/** In a node home: the institution's encryption key file and its case-key store (the node serves from it). */
export const ENCRYPTION_KEY_FILE = 'encryption.key';
export const CASE_KEYS_DIR = 'case-keys';
export const CASE_KEY_FORMAT = 'jrchain-case-key/v1';

/** Overwrites a secret file with zeros (fsynced), then removes it. Copies in backups or snapshots are not reached. */
export function destroySecretFile(path: string): boolean {
  if (!existsSync(path)) return false;
  const size = statSync(path).size;
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, new Uint8Array(size), 0, size, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  rmSync(path);
  return true;
}

function readSecretJson(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new KeyFileError(KeyErrorCode.notFound, `${path} does not exist`);
  const mode = statSync(path).mode;
  if ((mode & 0o077) !== 0)
    throw new KeyFileError(
      KeyErrorCode.permissions,
      `${path} is accessible by group or others; run: chmod 600 ${path}`,
    );
  try {
    const d = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (typeof d === 'object' && d !== null && !Array.isArray(d)) return d as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new KeyFileError(KeyErrorCode.corrupt, `${path} is not a JSON object`);
}

export interface EncryptionKey {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

/** Writes an X25519 encryption key file (mode 0600), optionally passphrase-encrypted like the other keys. */
export function writeEncryptionKeyFile(
  path: string,
  k: EncryptionKey,
  o: { passphrase?: string; now?: Date } = {},
) {
  const meta = {
    type: 'x25519' as const,
    publicKey: toHex(k.publicKey),
    peerId: '',
    createdAt: (o.now ?? new Date()).toISOString(),
  };
  const doc =
    o.passphrase === undefined
      ? { format: ENCRYPTION_KEY_FORMAT, ...meta, privateKey: toHex(k.privateKey) }
      : encryptSeed(k.privateKey, meta, o.passphrase);
  writeSecretFile(path, `${JSON.stringify(doc, null, 2)}\n`, false);
}

/** Whether `path` holds an X25519 encryption key file (plain or encrypted), without opening it. */
export function isEncryptionKeyFile(path: string): boolean {
  try {
    return readSecretJson(path).type === 'x25519';
  } catch {
    return false;
  }
}

/** Reads an encryption key file, plain or encrypted (passphrase from the option or JRCHAIN_KEY_PASSPHRASE). */
export function readEncryptionKeyFile(path: string, o: { passphrase?: string } = {}): EncryptionKey {
  const d = readSecretJson(path);
  const corrupt = (why: string) =>
    new KeyFileError(KeyErrorCode.corrupt, `encryption key file ${path} is corrupt: ${why}`);
  if (d.type !== 'x25519') throw corrupt('type is not x25519');
  let priv: Uint8Array | undefined;
  if (d.format === ENCRYPTED_KEY_FORMAT) {
    const bad = malformedEncrypted(d);
    if (bad !== undefined) throw corrupt(bad);
    const passphrase = o.passphrase ?? process.env[KEY_PASSPHRASE_ENV];
    if (passphrase === undefined || passphrase === '')
      throw new KeyFileError(
        KeyErrorCode.passphraseRequired,
        `${path} is encrypted; set ${KEY_PASSPHRASE_ENV} to its passphrase`,
      );
    priv = decryptSeed(d as unknown as EncryptedKeyDoc, passphrase);
    if (priv === undefined)
      throw new KeyFileError(
        KeyErrorCode.passphraseWrong,
        `${path}: wrong passphrase, or the file was altered`,
      );
  } else {
    if (d.format !== ENCRYPTION_KEY_FORMAT) throw corrupt(`format is not ${ENCRYPTION_KEY_FORMAT}`);
    priv = typeof d.privateKey === 'string' ? tryFromHex(d.privateKey) : undefined;
  }
  if (priv === undefined || priv.length !== 32) throw corrupt('private key is not 32 bytes of hex');
  const publicKey = x25519PublicKey(priv);
  if (d.publicKey !== toHex(publicKey)) throw corrupt('public key does not match the private key');
  return { privateKey: priv, publicKey };
}

/** One case in the store: its id in clear, its reference on the chain, and its key. */
export interface StoredCaseKey {
  caseId: string;
  ref: string;
  key: Uint8Array;
}

/** The case-key store: `<dir>/<64 hex of the reference>.json`, one per case. */
export class CaseKeyStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  #path(ref: string): string {
    if (!isCaseRef(ref)) throw new JrError('USAGE', `not a case reference: ${ref}`);
    return join(this.dir, `${ref.slice(3)}.json`);
  }

  put(c: StoredCaseKey): void {
    const doc = { format: CASE_KEY_FORMAT, caseId: c.caseId, ref: c.ref, key: toHex(c.key) };
    writeSecretFile(this.#path(c.ref), `${JSON.stringify(doc, null, 2)}\n`, true);
  }

  byRef(ref: string): StoredCaseKey | undefined {
    const path = this.#path(ref);
    if (!existsSync(path)) return undefined;
    const d = readSecretJson(path);
    const key = typeof d.key === 'string' ? tryFromHex(d.key) : undefined;
    if (
      d.format !== CASE_KEY_FORMAT ||
      key?.length !== CASE_KEY_LENGTH ||
      d.ref !== ref ||
      typeof d.caseId !== 'string'
    )
      throw new KeyFileError(KeyErrorCode.corrupt, `case key file ${path} is corrupt`);
    return { caseId: d.caseId, ref, key };
  }

  /** Every stored case (a store holds an institution's live cases: a scan is cheap next to a network call). */
  list(): StoredCaseKey[] {
    return readdirSync(this.dir)
      .filter((f) => /^[0-9a-f]{64}\.json$/.test(f))
      .map((f) => this.byRef(`k1:${f.slice(0, 64)}`)!);
  }

  byCaseId(caseId: string): StoredCaseKey | undefined {
    return this.list().find((c) => c.caseId === caseId);
  }

  /** Shreds this store's copy of a case key; false when it held none. */
  shred(ref: string): boolean {
    return destroySecretFile(this.#path(ref));
  }
}
