/**
 * An institution's case secrets at rest (ADR 011, docs/cases.md#confidentiality): its X25519 encryption key file,
 * and the case-key store, one file per case. Both live in the node home (or wherever the CLI is told), the
 * directory mode 0700 and every file 0600, written atomically. Shredding a case deletes its store file after
 * overwriting it; destroying an encryption key does the same to the key file.
 */

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
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
import { isJrError, JrError } from '../core/errors.ts';
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

/** An encrypted case file, and the encrypted index: AES-256-GCM under the store key. */
export const CASE_KEY_ENC_FORMAT = 'jrchain-case-key-enc/v1';
export const CASE_INDEX_FORMAT = 'jrchain-case-index/v1';
export const CASE_INDEX_ENC_FORMAT = 'jrchain-case-index-enc/v1';
/** In an encrypted store: the random store key, passphrase-encrypted exactly like a key file. */
export const CASE_STORE_KEY_FILE = 'store.key';
export const CASE_INDEX_FILE = 'index.json';

export interface CaseKeyStoreOptions {
  /** The passphrase of an encrypted store (default: JRCHAIN_KEY_PASSPHRASE). */
  passphrase?: string | undefined;
  /** Encrypt the store (and every entry already in it) if it is not yet; needs the passphrase. */
  encrypt?: boolean;
}

/** Case id -> reference, and the references shredded here (so `case sync` never brings one back). */
interface CaseIndex {
  cases: Record<string, string>;
  shredded: string[];
}

const FILE_PATTERN = /^[0-9a-f]{64}\.json$/;

/**
 * The case-key store: `<dir>/<64 hex of the reference>.json`, one per case, and `index.json` mapping case ids
 * to references, so neither lookup reads more than two files. Encrypted (ADR 015) when `store.key` exists: a
 * random 32-byte store key, passphrase-encrypted like a key file (one scrypt per process), seals every case
 * file and the index with AES-256-GCM, the file name as associated data.
 */
export class CaseKeyStore {
  readonly dir: string;
  readonly #passphrase: string | undefined;
  #storeKey: Uint8Array | undefined;

  constructor(dir: string, o: CaseKeyStoreOptions = {}) {
    this.dir = dir;
    this.#passphrase = o.passphrase;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (o.encrypt === true && !this.encrypted) this.#encryptAll();
  }

  get encrypted(): boolean {
    return existsSync(join(this.dir, CASE_STORE_KEY_FILE));
  }

  #path(ref: string): string {
    if (!isCaseRef(ref)) throw new JrError('USAGE', `not a case reference: ${ref}`);
    return join(this.dir, `${ref.slice(3)}.json`);
  }

  #passphraseOrThrow(): string {
    const p = this.#passphrase ?? process.env[KEY_PASSPHRASE_ENV];
    if (p === undefined || p === '')
      throw new KeyFileError(
        KeyErrorCode.passphraseRequired,
        `the case-key store ${this.dir} is encrypted; set ${KEY_PASSPHRASE_ENV} to its passphrase`,
      );
    return p;
  }

  /** The store key of an encrypted store (undefined for a plain one), unlocked once. */
  #key(): Uint8Array | undefined {
    if (this.#storeKey !== undefined || !this.encrypted) return this.#storeKey;
    const path = join(this.dir, CASE_STORE_KEY_FILE);
    const d = readSecretJson(path);
    const bad = d.format !== ENCRYPTED_KEY_FORMAT ? 'not an encrypted key file' : malformedEncrypted(d);
    if (bad !== undefined || d.type !== 'case-store')
      throw new KeyFileError(KeyErrorCode.corrupt, `${path} is corrupt: ${bad ?? 'type is not case-store'}`);
    const key = decryptSeed(d as unknown as EncryptedKeyDoc, this.#passphraseOrThrow());
    if (key === undefined)
      throw new KeyFileError(
        KeyErrorCode.passphraseWrong,
        `${path}: wrong passphrase, or the file was altered`,
      );
    this.#storeKey = key;
    return key;
  }

  #seal(name: string, plain: unknown, key: Uint8Array): Record<string, string> {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, nonce);
    c.setAAD(Buffer.from(`jrchain/case-store/v1\0${name}`));
    const ciphertext = Buffer.concat([c.update(JSON.stringify(plain)), c.final()]);
    return { nonce: toHex(nonce), ciphertext: toHex(ciphertext), tag: toHex(c.getAuthTag()) };
  }

  #open(name: string, d: Record<string, unknown>, key: Uint8Array): Record<string, unknown> {
    const path = join(this.dir, name);
    const hex = (v: unknown) => (typeof v === 'string' ? tryFromHex(v) : undefined);
    const [nonce, ciphertext, tag] = [hex(d.nonce), hex(d.ciphertext), hex(d.tag)];
    try {
      const dc = createDecipheriv('aes-256-gcm', key, nonce!);
      dc.setAAD(Buffer.from(`jrchain/case-store/v1\0${name}`));
      dc.setAuthTag(tag!);
      const plain = JSON.parse(Buffer.concat([dc.update(ciphertext!), dc.final()]).toString('utf8'));
      if (typeof plain === 'object' && plain !== null) return plain as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw new KeyFileError(KeyErrorCode.corrupt, `${path} does not open under the store key (altered?)`);
  }

  #writeEntry(c: StoredCaseKey, key: Uint8Array | undefined): void {
    const name = `${c.ref.slice(3)}.json`;
    const entry = { caseId: c.caseId, key: toHex(c.key) };
    const doc =
      key === undefined
        ? { format: CASE_KEY_FORMAT, ref: c.ref, ...entry }
        : { format: CASE_KEY_ENC_FORMAT, ref: c.ref, ...this.#seal(name, entry, key) };
    writeSecretFile(this.#path(c.ref), `${JSON.stringify(doc, null, 2)}\n`, true);
  }

  put(c: StoredCaseKey): void {
    const index = this.#index();
    if (index.shredded.includes(c.ref))
      throw new JrError('USAGE', `case ${c.ref} was shredded in ${this.dir}; it is not stored again`);
    this.#writeEntry(c, this.#key());
    index.cases[c.caseId] = c.ref;
    this.#writeIndex(index);
  }

  byRef(ref: string): StoredCaseKey | undefined {
    const path = this.#path(ref);
    if (!existsSync(path)) return undefined;
    let d = readSecretJson(path);
    if (d.format === CASE_KEY_ENC_FORMAT && d.ref === ref) {
      const key = this.#key();
      if (key === undefined)
        throw new KeyFileError(KeyErrorCode.corrupt, `${path} is encrypted but ${this.dir} has no store key`);
      d = { format: CASE_KEY_FORMAT, ref, ...this.#open(`${ref.slice(3)}.json`, d, key) };
    }
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

  /** Every stored case (reads every file: for sync and tests; lookups go through the index). */
  list(): StoredCaseKey[] {
    return this.#refs().map((ref) => this.byRef(ref)!);
  }

  #refs(): string[] {
    return readdirSync(this.dir)
      .filter((f) => FILE_PATTERN.test(f))
      .map((f) => `k1:${f.slice(0, 64)}`);
  }

  byCaseId(caseId: string): StoredCaseKey | undefined {
    const ref = this.#index().cases[caseId];
    return ref === undefined ? undefined : this.byRef(ref);
  }

  /** Whether this store shredded the case: `case sync` does not import it again. */
  isShredded(ref: string): boolean {
    return this.#index().shredded.includes(ref);
  }

  /** The index; a store from before the index gets one built from its files (once). */
  #index(): CaseIndex {
    const path = join(this.dir, CASE_INDEX_FILE);
    if (!existsSync(path)) {
      const index: CaseIndex = { cases: {}, shredded: [] };
      for (const c of this.list()) index.cases[c.caseId] = c.ref;
      if (index.shredded.length > 0 || Object.keys(index.cases).length > 0) this.#writeIndex(index);
      return index;
    }
    let d = readSecretJson(path);
    if (d.format === CASE_INDEX_ENC_FORMAT) {
      const key = this.#key();
      if (key === undefined)
        throw new KeyFileError(KeyErrorCode.corrupt, `${path} is encrypted but ${this.dir} has no store key`);
      d = { format: CASE_INDEX_FORMAT, ...this.#open(CASE_INDEX_FILE, d, key) };
    }
    const cases = d.cases as Record<string, unknown> | undefined;
    const shredded = d.shredded;
    if (
      d.format !== CASE_INDEX_FORMAT ||
      typeof cases !== 'object' ||
      cases === null ||
      !Object.values(cases).every((r) => typeof r === 'string' && isCaseRef(r)) ||
      !Array.isArray(shredded) ||
      !shredded.every((r) => typeof r === 'string' && isCaseRef(r))
    )
      throw new KeyFileError(KeyErrorCode.corrupt, `case index ${path} is corrupt`);
    return { cases: { ...(cases as Record<string, string>) }, shredded: [...shredded] };
  }

  #writeIndex(index: CaseIndex): void {
    const key = this.#key();
    const body = { cases: index.cases, shredded: index.shredded };
    const doc =
      key === undefined
        ? { format: CASE_INDEX_FORMAT, ...body }
        : { format: CASE_INDEX_ENC_FORMAT, ...this.#seal(CASE_INDEX_FILE, body, key) };
    writeSecretFile(join(this.dir, CASE_INDEX_FILE), `${JSON.stringify(doc, null, 2)}\n`, true);
  }

  /** Turns a plain store into an encrypted one: a new store key, then every entry and the index rewritten. */
  #encryptAll(): void {
    const passphrase = this.#passphraseOrThrow();
    const entries = this.list();
    const index = this.#index();
    const key = new Uint8Array(randomBytes(32));
    const meta = {
      type: 'case-store' as const,
      publicKey: '',
      peerId: '',
      createdAt: new Date().toISOString(),
    };
    const doc = encryptSeed(key, meta, passphrase);
    writeSecretFile(join(this.dir, CASE_STORE_KEY_FILE), `${JSON.stringify(doc, null, 2)}\n`, false);
    this.#storeKey = key;
    for (const c of entries) this.#writeEntry(c, key);
    this.#writeIndex(index);
  }

  /** Shreds this store's copy of a case key and remembers the reference; false when it held none. */
  shred(ref: string): boolean {
    const path = this.#path(ref);
    const index = this.#index();
    for (const [id, r] of Object.entries(index.cases)) if (r === ref) delete index.cases[id];
    if (!index.shredded.includes(ref)) index.shredded.push(ref);
    this.#writeIndex(index);
    return destroySecretFile(path);
  }
}

/**
 * The node's view of the store in its home (ADR 015): one instance once the directory exists (an encrypted
 * store unlocks its key once, not on every read), and reads that never fail: a store the node cannot open
 * (locked without the passphrase, or corrupt) opens no case, and `onError` hears why, once.
 */
export function homeCaseKeys(
  dir: string,
  passphrase: string | undefined,
  onError: (err: JrError) => void,
): Pick<CaseKeyStore, 'byRef' | 'byCaseId'> {
  let opened: CaseKeyStore | undefined;
  let reported = false;
  const read = <T>(f: (s: CaseKeyStore) => T | undefined): T | undefined => {
    if (opened === undefined && existsSync(dir)) opened = new CaseKeyStore(dir, { passphrase });
    if (opened === undefined) return undefined;
    try {
      return f(opened);
    } catch (err) {
      if (!isJrError(err)) throw err;
      if (!reported) onError(err);
      reported = true;
      return undefined;
    }
  };
  return { byRef: (ref) => read((s) => s.byRef(ref)), byCaseId: (id) => read((s) => s.byCaseId(id)) };
}
