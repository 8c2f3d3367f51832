/**
 * A client's signing key of either crypto suite (ADR 014), from its key file: the Ed25519 key files of keys.ts,
 * or SM2 key files for clients of an sm2-sm3 chain. SM2 format (JSON, one object, mode 0600 like every key file):
 *   { "format": "jrchain-key/v1", "type": "sm2", "publicKey": hex (65 bytes, 04 ‖ x ‖ y),
 *     "privateKey": hex (32 bytes), "createdAt": ISO-8601 }
 * or, encrypted with a passphrase, format jrchain-key-enc/v1 with type `sm2` (the 32-byte private key sealed as
 * key-crypt.ts seals a seed). The public key is checked against the private key on load.
 */
import { equalBytes, toHex, tryFromHex } from './bytes.ts';
import type { Signer } from './crypto.ts';
import { type CryptoSuite, ED25519_SHA256, SM2_SM3 } from './crypto-suite.ts';
import {
  decryptSeed,
  ENCRYPTED_KEY_FORMAT,
  type EncryptedKeyDoc,
  encryptSeed,
  malformedEncrypted,
} from './key-crypt.ts';
import {
  KEY_FILE_FORMAT,
  KEY_PASSPHRASE_ENV,
  KeyErrorCode,
  KeyFileError,
  type ReadKeyOptions,
  readKeyDoc,
  readKeyFile,
  type WriteKeyOptions,
  writeSecretFile,
} from './keys.ts';

export interface SigningKey {
  suite: CryptoSuite;
  /** The Ed25519 seed or the SM2 private key. */
  privateKey: Uint8Array;
  publicKey: Uint8Array;
  signer: Signer;
}

/** The signing key of a private key of `suite`. */
export function signingKey(suite: CryptoSuite, privateKey: Uint8Array): SigningKey {
  const signer = suite.signer(privateKey);
  return { suite, privateKey, publicKey: signer.publicKey, signer };
}

/** A new random key of `suite`. */
export function generateSigningKey(suite: CryptoSuite): SigningKey {
  return signingKey(suite, suite.generatePrivateKey());
}

/** Writes an SM2 key file (0600, atomically, never over an existing file unless `replace`). */
export function writeSm2KeyFile(path: string, key: SigningKey, o: WriteKeyOptions = {}): void {
  if (key.suite !== SM2_SM3) throw new TypeError('writeSm2KeyFile takes an sm2-sm3 key');
  const meta = {
    type: 'sm2' as const,
    publicKey: toHex(key.publicKey),
    peerId: '',
    createdAt: (o.now ?? new Date()).toISOString(),
  };
  const doc =
    o.passphrase === undefined
      ? {
          format: KEY_FILE_FORMAT,
          type: 'sm2',
          publicKey: meta.publicKey,
          privateKey: toHex(key.privateKey),
          createdAt: meta.createdAt,
        }
      : encryptSeed(key.privateKey, meta, o.passphrase);
  writeSecretFile(path, `${JSON.stringify(doc, null, 2)}\n`, o.replace === true);
}

/** Reads a client key file of either suite (the file's `type` says which), refusing one others can read. */
export function readSigningKeyFile(path: string, o: ReadKeyOptions = {}): SigningKey {
  const d = readKeyDoc(path);
  if (d.type === 'ed25519') {
    const k = readKeyFile(path, o);
    return { suite: ED25519_SHA256, privateKey: k.seed, publicKey: k.publicKey, signer: k.signer };
  }
  const corrupt = (why: string) =>
    new KeyFileError(KeyErrorCode.corrupt, `key file ${path} is corrupt: ${why}`);
  if (d.type !== 'sm2') throw corrupt('type is neither ed25519 nor sm2');
  let privateKey: Uint8Array | undefined;
  if (d.format === ENCRYPTED_KEY_FORMAT) {
    const bad = malformedEncrypted(d);
    if (bad !== undefined) throw corrupt(bad);
    const passphrase = o.passphrase ?? process.env[KEY_PASSPHRASE_ENV];
    if (passphrase === undefined || passphrase === '')
      throw new KeyFileError(
        KeyErrorCode.passphraseRequired,
        `key file ${path} is encrypted; set ${KEY_PASSPHRASE_ENV} to its passphrase`,
      );
    privateKey = decryptSeed(d as unknown as EncryptedKeyDoc, passphrase);
    if (privateKey === undefined)
      throw new KeyFileError(
        KeyErrorCode.passphraseWrong,
        `key file ${path}: wrong passphrase, or the file was altered`,
      );
  } else {
    if (d.format !== KEY_FILE_FORMAT) throw corrupt(`format is not ${KEY_FILE_FORMAT}`);
    const keys = Object.keys(d).sort().join(',');
    if (keys !== 'createdAt,format,privateKey,publicKey,type') throw corrupt(`unexpected fields (${keys})`);
    privateKey = typeof d.privateKey === 'string' ? tryFromHex(d.privateKey) : undefined;
  }
  if (privateKey === undefined || privateKey.length !== SM2_SM3.privateKeyLength)
    throw corrupt('private key is not 32 bytes of hex');
  let key: SigningKey;
  try {
    key = signingKey(SM2_SM3, privateKey);
  } catch (err) {
    throw corrupt((err as Error).message);
  }
  const stored = typeof d.publicKey === 'string' ? tryFromHex(d.publicKey) : undefined;
  if (stored === undefined || !equalBytes(stored, key.publicKey))
    throw corrupt('public key does not match the private key');
  return key;
}
