/**
 * Ed25519 key files. Format (JSON, one object):
 *   { "format": "jrchain-key/v1", "type": "ed25519", "publicKey": hex, "peerId": string, "seed": hex,
 *     "createdAt": ISO-8601 }
 * or, encrypted with a passphrase, format jrchain-key-enc/v1 (src/core/key-crypt.ts). Files are created with
 * mode 0600 and refused when group/other can read them. The public key and peer id are stored for humans and
 * checked against the seed on load, which catches corruption.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { equalBytes, toHex, tryFromHex } from './bytes.ts';
import { Ed25519Signer, publicKeyFromSeed, SEED_LENGTH } from './crypto.ts';
import { ExitCode, exitCodes, JrError } from './errors.ts';
import {
  decryptSeed,
  ENCRYPTED_KEY_FORMAT,
  type EncryptedKeyDoc,
  encryptSeed,
  malformedEncrypted,
} from './key-crypt.ts';

export const KEY_FILE_FORMAT = 'jrchain-key/v1';
/** The environment variable that holds the passphrase of encrypted key files. */
export const KEY_PASSPHRASE_ENV = 'JRCHAIN_KEY_PASSPHRASE';

export const KeyErrorCode = {
  notFound: 'KEY_FILE_NOT_FOUND',
  exists: 'KEY_FILE_EXISTS',
  permissions: 'KEY_FILE_PERMISSIONS',
  corrupt: 'KEY_FILE_CORRUPT',
  passphraseRequired: 'KEY_PASSPHRASE_REQUIRED',
  passphraseWrong: 'KEY_PASSPHRASE_WRONG',
} as const;
export type KeyErrorCode = (typeof KeyErrorCode)[keyof typeof KeyErrorCode];
export const KeyErrorExit = exitCodes(KeyErrorCode, {
  notFound: ExitCode.badInput,
  exists: ExitCode.badInput,
  permissions: ExitCode.badInput,
  corrupt: ExitCode.badInput,
  passphraseRequired: ExitCode.badInput,
  passphraseWrong: ExitCode.badInput,
});

export class KeyFileError extends JrError {
  declare readonly code: KeyErrorCode;
  constructor(code: KeyErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}

export interface KeyPair {
  seed: Uint8Array;
  publicKey: Uint8Array;
  peerId: string;
  signer: Ed25519Signer;
}

/** The libp2p peer id (base58btc identity multihash, "12D3KooW...") of an Ed25519 public key. */
export function peerIdOf(publicKey: Uint8Array): string {
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey)).toString();
}

export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  const publicKey = publicKeyFromSeed(seed);
  return { seed, publicKey, peerId: peerIdOf(publicKey), signer: new Ed25519Signer(seed) };
}

export function generateKeyPair(): KeyPair {
  return keyPairFromSeed(Ed25519Signer.generate().seed);
}

export interface WriteKeyOptions {
  now?: Date;
  /** Encrypts the seed under this passphrase (format jrchain-key-enc/v1). */
  passphrase?: string;
  /** Replaces an existing file atomically (used by `keys encrypt|decrypt`); new files never overwrite. */
  replace?: boolean;
}

/** The JSON body of a key file, plain or encrypted. */
function keyFileBody(key: KeyPair, o: WriteKeyOptions): string {
  const meta = {
    type: 'ed25519' as const,
    publicKey: toHex(key.publicKey),
    peerId: key.peerId,
    createdAt: (o.now ?? new Date()).toISOString(),
  };
  const doc =
    o.passphrase === undefined
      ? { format: KEY_FILE_FORMAT, ...meta, seed: toHex(key.seed) }
      : encryptSeed(key.seed, meta, o.passphrase);
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * Writes a secret file with mode 0600, atomically: a fsynced temporary file in the same directory is linked
 * into place (which fails if the target exists) or, with `replace`, renamed over it.
 */
export function writeSecretFile(path: string, body: string, replace = false): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    try {
      writeSync(fd, body);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (replace) renameSync(tmp, path);
    else linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new KeyFileError(KeyErrorCode.exists, `${path} already exists; refusing to overwrite it`);
    }
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Writes a key file (0600, atomically; see writeSecretFile). */
export function writeKeyFile(path: string, key: KeyPair, o: WriteKeyOptions = {}): void {
  writeSecretFile(path, keyFileBody(key, o), o.replace === true);
}

export interface ReadKeyOptions {
  /** The passphrase of an encrypted file; defaults to the JRCHAIN_KEY_PASSPHRASE environment variable. */
  passphrase?: string;
}

/** Reads a key file, plain or encrypted, refusing one that group or others can access. */
export function readKeyFile(path: string, o: ReadKeyOptions = {}): KeyPair {
  return loadKeyFile(path, o).key;
}

/** Like readKeyFile, and says whether the file was encrypted. */
export function loadKeyFile(path: string, o: ReadKeyOptions = {}): { key: KeyPair; encrypted: boolean } {
  const d = readKeyDoc(path);
  const corrupt = (why: string) =>
    new KeyFileError(KeyErrorCode.corrupt, `key file ${path} is corrupt: ${why}`);
  if (d.type !== 'ed25519') throw corrupt('type is not ed25519');
  let seed: Uint8Array | undefined;
  const encrypted = d.format === ENCRYPTED_KEY_FORMAT;
  if (encrypted) {
    const bad = malformedEncrypted(d);
    if (bad !== undefined) throw corrupt(bad);
    const passphrase = o.passphrase ?? process.env[KEY_PASSPHRASE_ENV];
    if (passphrase === undefined || passphrase === '')
      throw new KeyFileError(
        KeyErrorCode.passphraseRequired,
        `key file ${path} is encrypted; set ${KEY_PASSPHRASE_ENV} to its passphrase`,
      );
    seed = decryptSeed(d as unknown as EncryptedKeyDoc, passphrase);
    if (seed === undefined)
      throw new KeyFileError(
        KeyErrorCode.passphraseWrong,
        `key file ${path}: wrong passphrase, or the file was altered`,
      );
  } else {
    if (d.format !== KEY_FILE_FORMAT) throw corrupt(`format is not ${KEY_FILE_FORMAT}`);
    seed = typeof d.seed === 'string' ? tryFromHex(d.seed) : undefined;
  }
  if (seed === undefined || seed.length !== SEED_LENGTH) throw corrupt('seed is not 32 bytes of hex');
  const key = keyPairFromSeed(seed);
  const stored = typeof d.publicKey === 'string' ? tryFromHex(d.publicKey) : undefined;
  if (stored === undefined || !equalBytes(stored, key.publicKey))
    throw corrupt('public key does not match the seed');
  if (d.peerId !== key.peerId) throw corrupt('peer id does not match the key');
  return { key, encrypted };
}

/** The file's JSON object, after the existence and permission checks. */
export function readKeyDoc(path: string): Record<string, unknown> {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KeyFileError(KeyErrorCode.notFound, `key file ${path} does not exist`);
    }
    throw err;
  }
  if ((mode & 0o077) !== 0) {
    throw new KeyFileError(
      KeyErrorCode.permissions,
      `key file ${path} is accessible by group or others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new KeyFileError(KeyErrorCode.corrupt, `key file ${path} is corrupt: not valid JSON`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new KeyFileError(KeyErrorCode.corrupt, `key file ${path} is corrupt: not a JSON object`);
  return doc as Record<string, unknown>;
}
