/**
 * The libp2p peer id of an Ed25519 validator key, in plain JavaScript so that genesis parsing also runs in a
 * browser (ADR 013): the identity multihash of the key's protobuf form (libp2p peer-ids spec), in base58btc,
 * which is what `@libp2p/peer-id` prints ("12D3KooW...").
 */
import { concatBytes } from './bytes.ts';

// PublicKey { Type: Ed25519 (1), Data: 32 bytes } as protobuf, inside an identity multihash of 36 bytes.
const PREFIX = new Uint8Array([0x00, 0x24, 0x08, 0x01, 0x12, 0x20]);
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function base58btc(bytes: Uint8Array): string {
  const digits: number[] = [];
  for (const byte of bytes) {
    let carry = byte;
    for (let i = 0; i < digits.length; i++) {
      carry += digits[i]! * 256;
      digits[i] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    for (; carry > 0; carry = Math.floor(carry / 58)) digits.push(carry % 58);
  }
  let out = '';
  for (let i = 0; i < bytes.length && bytes[i] === 0; i++) out += ALPHABET[0];
  for (let i = digits.length - 1; i >= 0; i--) out += ALPHABET[digits[i]!];
  return out;
}

/** The peer id string of a 32-byte Ed25519 public key. */
export function ed25519PeerId(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new RangeError('Ed25519 public key must be 32 bytes');
  return base58btc(concatBytes(PREFIX, publicKey));
}
