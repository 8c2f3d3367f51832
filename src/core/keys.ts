/**
 * Key files. Format (JSON, one object):
 *   { "format": "jrchain-key/v1", "type": "ed25519", "publicKey": hex, "peerId": string, "seed": hex,
 *     "createdAt": ISO-8601 }
 * or, for a validator or client of an sm2-sm3 chain (ADR 014), an SM2 signing key with an Ed25519 libp2p key:
 *   { "format": "jrchain-key/v1", "type": "sm2", "publicKey": hex (65-byte SM2 point), "privateKey": hex (32),
 *     "peerKey": hex (Ed25519), "peerId": string (of peerKey), "peerSeed": hex (32), "createdAt": ISO-8601 }
 * or, encrypted with a passphrase, format jrchain-key-enc/v1 (src/core/key-crypt.ts; for sm2 the sealed secret
 * is privateKey ‖ peerSeed and peerKey stays in the clear). Files are created with mode 0600 and refused when
 * group/other can read them. Public keys and peer id are stored for humans and checked against the secrets on
 * load, which catches corruption. A reader names the suite it expects: a key of the other suite is refused.
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
import { Ed25519Signer, PUBLIC_KEY_LENGTH, publicKeyFromSeed, SEED_LENGTH, type Signer } from './crypto.ts';
import { SM2_SM3, type SuiteName } from './crypto-suite.ts';
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
  /** An Ed25519 key file where an SM2 one is needed, or the reverse (ADR 014). */
  wrongSuite: 'KEY_FILE_WRONG_SUITE',
} as const;
export type KeyErrorCode = (typeof KeyErrorCode)[keyof typeof KeyErrorCode];
export const KeyErrorExit = exitCodes(KeyErrorCode, {
  notFound: ExitCode.badInput,
  exists: ExitCode.badInput,
  permissions: ExitCode.badInput,
  corrupt: ExitCode.badInput,
  passphraseRequired: ExitCode.badInput,
  passphraseWrong: ExitCode.badInput,
  wrongSuite: ExitCode.badInput,
});

export class KeyFileError extends JrError {
  declare readonly code: KeyErrorCode;
  constructor(code: KeyErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}

export interface KeyPair {
  /** The chain suite this key signs for (ADR 014). */
  suite: SuiteName;
  /** Ed25519 seed of the libp2p identity; on ed25519-sha256 it is also the signing key. */
  seed: Uint8Array;
  /** The signing public key: 32-byte Ed25519 or 65-byte SM2. */
  publicKey: Uint8Array;
  /** The Ed25519 public key of the libp2p identity: `publicKey` itself on ed25519-sha256. */
  peerKey: Uint8Array;
  /** The libp2p peer id, of `peerKey`. */
  peerId: string;
  signer: Signer;
  /** The SM2 private key (sm2-sm3 only). */
  privateKey?: Uint8Array;
}

/** The libp2p peer id (base58btc identity multihash, "12D3KooW...") of an Ed25519 public key. */
export function peerIdOf(publicKey: Uint8Array): string {
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey)).toString();
}

/** The Ed25519 peer key governance named for an SM2 validator key (GovernanceState.peerKeyOf, ADR 014). */
export type PeerKeyLookup = (publicKey: Uint8Array) => Uint8Array | undefined;

/**
 * The libp2p peer id of a validator (its signing key `publicKey`). On an sm2-sm3 chain it derives from the
 * separate Ed25519 peer key the genesis names (ADR 014, decision 4) or, for a validator governance added or
 * rotated, the one its action named (`peerKeyOf`); an Ed25519 key is its own peer key. Undefined: an SM2 key
 * neither names.
 */
export function validatorPeerId(
  publicKey: Uint8Array,
  genesis: { readonly validators: readonly { publicKey: Uint8Array; peerId: string }[] },
  peerKeyOf?: PeerKeyLookup,
): string | undefined {
  const named = genesis.validators.find((v) => equalBytes(v.publicKey, publicKey));
  if (named !== undefined) return named.peerId;
  if (publicKey.length === PUBLIC_KEY_LENGTH) return peerIdOf(publicKey);
  const peerKey = peerKeyOf?.(publicKey);
  return peerKey === undefined ? undefined : peerIdOf(peerKey);
}

export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  const publicKey = publicKeyFromSeed(seed);
  const peerId = peerIdOf(publicKey);
  return {
    suite: 'ed25519-sha256',
    seed,
    publicKey,
    peerKey: publicKey,
    peerId,
    signer: new Ed25519Signer(seed),
  };
}

/** An sm2-sm3 key: SM2 signing key `privateKey`, Ed25519 libp2p identity `peerSeed` (ADR 014, decision 4). */
export function sm2KeyPair(privateKey: Uint8Array, peerSeed: Uint8Array): KeyPair {
  const signer = SM2_SM3.signer(privateKey);
  const peerKey = publicKeyFromSeed(peerSeed);
  return {
    suite: 'sm2-sm3',
    seed: peerSeed,
    publicKey: signer.publicKey,
    peerKey,
    peerId: peerIdOf(peerKey),
    signer,
    privateKey: privateKey.slice(),
  };
}

/** A new key of the suite (default Ed25519); an sm2-sm3 key also gets a new Ed25519 peer key. */
export function generateKeyPair(suite: SuiteName = 'ed25519-sha256'): KeyPair {
  const peerSeed = Ed25519Signer.generate().seed;
  return suite === 'sm2-sm3' ? sm2KeyPair(SM2_SM3.generatePrivateKey(), peerSeed) : keyPairFromSeed(peerSeed);
}

/** The key file `type` of a suite. */
function keyFileType(suite: SuiteName): 'ed25519' | 'sm2' {
  return suite === 'sm2-sm3' ? 'sm2' : 'ed25519';
}

function wrongSuite(path: string, got: SuiteName, want: SuiteName): KeyFileError {
  return new KeyFileError(
    KeyErrorCode.wrongSuite,
    `key file ${path} is an ${keyFileType(got)} key (${got} chains); this needs an ${keyFileType(want)} key (${want})`,
    { keyType: keyFileType(got), expected: keyFileType(want) },
  );
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
  const createdAt = (o.now ?? new Date()).toISOString();
  if (key.suite === 'sm2-sm3') {
    if (key.privateKey === undefined) throw new Error('an sm2 key pair without its private key');
    const meta = { type: 'sm2' as const, publicKey: toHex(key.publicKey), peerId: key.peerId, createdAt };
    const secret = { privateKey: toHex(key.privateKey), peerSeed: toHex(key.seed) };
    const doc =
      o.passphrase === undefined
        ? { format: KEY_FILE_FORMAT, ...meta, peerKey: toHex(key.peerKey), ...secret }
        : {
            ...encryptSeed(new Uint8Array([...key.privateKey, ...key.seed]), meta, o.passphrase),
            peerKey: toHex(key.peerKey),
          };
    return `${JSON.stringify(doc, null, 2)}\n`;
  }
  const meta = { type: 'ed25519' as const, publicKey: toHex(key.publicKey), peerId: key.peerId, createdAt };
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
  /**
   * The suite the caller signs for (ADR 014): a key of another is refused (KEY_FILE_WRONG_SUITE). Default
   * ed25519-sha256, so code that signs with `seed` never takes an SM2 file's peer key for a signing key;
   * `any` for commands that only show or re-encrypt a file.
   */
  suite?: SuiteName | 'any';
}

/** Reads a key file, plain or encrypted, refusing one that group or others can access. */
export function readKeyFile(path: string, o: ReadKeyOptions = {}): KeyPair {
  return loadKeyFile(path, o).key;
}

/** The secret of an encrypted file (`type` checked by the caller), or a clear error. */
function openEncrypted(path: string, d: Record<string, unknown>, o: ReadKeyOptions): Uint8Array {
  const passphrase = o.passphrase ?? process.env[KEY_PASSPHRASE_ENV];
  if (passphrase === undefined || passphrase === '')
    throw new KeyFileError(
      KeyErrorCode.passphraseRequired,
      `key file ${path} is encrypted; set ${KEY_PASSPHRASE_ENV} to its passphrase`,
    );
  const secret = decryptSeed(d as unknown as EncryptedKeyDoc, passphrase);
  if (secret === undefined)
    throw new KeyFileError(
      KeyErrorCode.passphraseWrong,
      `key file ${path}: wrong passphrase, or the file was altered`,
    );
  return secret;
}

/** An sm2 key file (ADR 014): SM2 private key and Ed25519 peer seed, checked against the stored public parts. */
function loadSm2KeyFile(
  path: string,
  d: Record<string, unknown>,
  o: ReadKeyOptions,
  corrupt: (why: string) => KeyFileError,
): { key: KeyPair; encrypted: boolean } {
  const encrypted = d.format === ENCRYPTED_KEY_FORMAT;
  let privateKey: Uint8Array | undefined;
  let peerSeed: Uint8Array | undefined;
  if (encrypted) {
    const bad = malformedEncrypted(d);
    if (bad !== undefined) throw corrupt(bad);
    const secret = openEncrypted(path, d, o);
    privateKey = secret.slice(0, 32);
    peerSeed = secret.slice(32);
  } else {
    if (d.format !== KEY_FILE_FORMAT) throw corrupt(`format is not ${KEY_FILE_FORMAT}`);
    privateKey = typeof d.privateKey === 'string' ? tryFromHex(d.privateKey) : undefined;
    peerSeed = typeof d.peerSeed === 'string' ? tryFromHex(d.peerSeed) : undefined;
  }
  if (privateKey?.length !== 32) throw corrupt('privateKey is not 32 bytes of hex');
  if (peerSeed?.length !== SEED_LENGTH) throw corrupt('peerSeed is not 32 bytes of hex');
  let key: KeyPair;
  try {
    key = sm2KeyPair(privateKey, peerSeed);
  } catch (err) {
    throw corrupt(`privateKey is not an SM2 private key (${(err as Error).message})`);
  }
  const stored = typeof d.publicKey === 'string' ? tryFromHex(d.publicKey) : undefined;
  if (stored === undefined || !equalBytes(stored, key.publicKey))
    throw corrupt('public key does not match the private key');
  const peerKey = typeof d.peerKey === 'string' ? tryFromHex(d.peerKey) : undefined;
  if (peerKey === undefined || !equalBytes(peerKey, key.peerKey))
    throw corrupt('peer key does not match the peer seed');
  if (d.peerId !== key.peerId) throw corrupt('peer id does not match the peer key');
  return { key, encrypted };
}

/** Like readKeyFile, and says whether the file was encrypted. */
export function loadKeyFile(path: string, o: ReadKeyOptions = {}): { key: KeyPair; encrypted: boolean } {
  const d = readKeyDoc(path);
  const corrupt = (why: string) =>
    new KeyFileError(KeyErrorCode.corrupt, `key file ${path} is corrupt: ${why}`);
  if (d.type !== 'ed25519' && d.type !== 'sm2') throw corrupt('type is neither ed25519 nor sm2');
  const want = o.suite ?? 'ed25519-sha256';
  const suite: SuiteName = d.type === 'sm2' ? 'sm2-sm3' : 'ed25519-sha256';
  if (want !== 'any' && want !== suite) throw wrongSuite(path, suite, want);
  if (d.type === 'sm2') return loadSm2KeyFile(path, d, o, corrupt);
  let seed: Uint8Array | undefined;
  const encrypted = d.format === ENCRYPTED_KEY_FORMAT;
  if (encrypted) {
    const bad = malformedEncrypted(d);
    if (bad !== undefined) throw corrupt(bad);
    seed = openEncrypted(path, d, o);
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
function readKeyDoc(path: string): Record<string, unknown> {
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
