/**
 * Ed25519 key files. Format (JSON, one object):
 *   { "format": "jrchain-key/v1", "type": "ed25519", "publicKey": hex, "peerId": string, "seed": hex,
 *     "createdAt": ISO-8601 }
 * Files are created with mode 0600 and refused when group/other can read them. The public key and peer id
 * are stored for humans and checked against the seed on load, which catches corruption.
 */
import { closeSync, fsyncSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { equalBytes, toHex, tryFromHex } from './bytes.ts';
import { Ed25519Signer, publicKeyFromSeed, SEED_LENGTH } from './crypto.ts';
import { ExitCode, exitCodes, JrError } from './errors.ts';

export const KEY_FILE_FORMAT = 'jrchain-key/v1';

export const KeyErrorCode = {
  notFound: 'KEY_FILE_NOT_FOUND',
  exists: 'KEY_FILE_EXISTS',
  permissions: 'KEY_FILE_PERMISSIONS',
  corrupt: 'KEY_FILE_CORRUPT',
} as const;
export type KeyErrorCode = (typeof KeyErrorCode)[keyof typeof KeyErrorCode];
export const KeyErrorExit = exitCodes(KeyErrorCode, {
  notFound: ExitCode.badInput,
  exists: ExitCode.badInput,
  permissions: ExitCode.badInput,
  corrupt: ExitCode.badInput,
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

/** Writes a new key file with mode 0600 and fsyncs it. Never overwrites an existing file. */
export function writeKeyFile(path: string, key: KeyPair, now = new Date()): void {
  const body = `${JSON.stringify(
    {
      format: KEY_FILE_FORMAT,
      type: 'ed25519',
      publicKey: toHex(key.publicKey),
      peerId: key.peerId,
      seed: toHex(key.seed),
      createdAt: now.toISOString(),
    },
    null,
    2,
  )}\n`;
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new KeyFileError(
        KeyErrorCode.exists,
        `key file ${path} already exists; refusing to overwrite it`,
      );
    }
    throw err;
  }
  try {
    writeSync(fd, body);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function readKeyFile(path: string): KeyPair {
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
  const corrupt = (why: string) =>
    new KeyFileError(KeyErrorCode.corrupt, `key file ${path} is corrupt: ${why}`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw corrupt('not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null) throw corrupt('not a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.format !== KEY_FILE_FORMAT) throw corrupt(`format is not ${KEY_FILE_FORMAT}`);
  if (d.type !== 'ed25519') throw corrupt('type is not ed25519');
  const seed = typeof d.seed === 'string' ? tryFromHex(d.seed) : undefined;
  if (seed === undefined || seed.length !== SEED_LENGTH) throw corrupt('seed is not 32 bytes of hex');
  const key = keyPairFromSeed(seed);
  const stored = typeof d.publicKey === 'string' ? tryFromHex(d.publicKey) : undefined;
  if (stored === undefined || !equalBytes(stored, key.publicKey))
    throw corrupt('public key does not match the seed');
  if (d.peerId !== key.peerId) throw corrupt('peer id does not match the key');
  return key;
}
