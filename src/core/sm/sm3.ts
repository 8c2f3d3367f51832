/**
 * SM3, the Chinese national hash function (GM/T 0004-2012, GB/T 32905-2016), in pure TypeScript so that it runs
 * in browsers too (the receipt verifier, ADR 013). Node's OpenSSL also has SM3: the tests check this
 * implementation against it and against `openssl dgst -sm3`. `sm3` runs on node:crypto when it has SM3 (about
 * twice as fast here; an SM chain hashes every tx and Merkle node with it), else on this code (`sm3Js`); Node's
 * module is reached through `process.getBuiltinModule`, as in crypto.ts, so this file stays browser-safe.
 */

export const SM3_LENGTH = 32;
const BLOCK = 64;

const IV = [0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e];

function rotl(x: number, n: number): number {
  const k = n & 31;
  return k === 0 ? x : ((x << k) | (x >>> (32 - k))) >>> 0;
}

const p0 = (x: number): number => (x ^ rotl(x, 9) ^ rotl(x, 17)) >>> 0;
const p1 = (x: number): number => (x ^ rotl(x, 15) ^ rotl(x, 23)) >>> 0;

/** T_j rotated left by j, precomputed once (the standard's constants 79cc4519 and 7a879d8a). */
const T_ROT = Array.from({ length: 64 }, (_, j) => rotl(j < 16 ? 0x79cc4519 : 0x7a879d8a, j));

const W = new Uint32Array(68);

/** The compression function CF: folds one 64-byte block at `offset` into the state `v`. */
function compress(v: Uint32Array, block: Uint8Array, offset: number): void {
  for (let j = 0; j < 16; j++) {
    const i = offset + 4 * j;
    W[j] = ((block[i]! << 24) | (block[i + 1]! << 16) | (block[i + 2]! << 8) | block[i + 3]!) >>> 0;
  }
  for (let j = 16; j < 68; j++) {
    W[j] = p1(W[j - 16]! ^ W[j - 9]! ^ rotl(W[j - 3]!, 15)) ^ rotl(W[j - 13]!, 7) ^ W[j - 6]!;
  }
  let [a, b, c, d, e, f, g, h] = v as unknown as number[];
  for (let j = 0; j < 64; j++) {
    const a12 = rotl(a!, 12);
    const ss1 = rotl((a12 + e! + T_ROT[j]!) >>> 0, 7);
    const ss2 = (ss1 ^ a12) >>> 0;
    const ff = j < 16 ? a! ^ b! ^ c! : (a! & b!) | (a! & c!) | (b! & c!);
    const gg = j < 16 ? e! ^ f! ^ g! : (e! & f!) | (~e! & g!);
    const tt1 = (ff + d! + ss2 + (W[j]! ^ W[j + 4]!)) >>> 0;
    const tt2 = (gg + h! + ss1 + W[j]!) >>> 0;
    d = c;
    c = rotl(b!, 9);
    b = a;
    a = tt1;
    h = g;
    g = rotl(f!, 19);
    f = e;
    e = p0(tt2);
  }
  const out = [a!, b!, c!, d!, e!, f!, g!, h!];
  for (let i = 0; i < 8; i++) v[i] = (v[i]! ^ out[i]!) >>> 0;
}

/** An incremental SM3 hasher: `update` any number of times, then `digest` once. */
export class Sm3 {
  private readonly v = Uint32Array.from(IV);
  private readonly buffer = new Uint8Array(BLOCK);
  private buffered = 0;
  private length = 0;
  private finished = false;

  update(data: Uint8Array): this {
    if (this.finished) throw new Error('SM3: update after digest');
    this.length += data.length;
    let pos = 0;
    if (this.buffered > 0) {
      const take = Math.min(BLOCK - this.buffered, data.length);
      this.buffer.set(data.subarray(0, take), this.buffered);
      this.buffered += take;
      pos = take;
      if (this.buffered < BLOCK) return this;
      compress(this.v, this.buffer, 0);
      this.buffered = 0;
    }
    for (; pos + BLOCK <= data.length; pos += BLOCK) compress(this.v, data, pos);
    this.buffer.set(data.subarray(pos), 0);
    this.buffered = data.length - pos;
    return this;
  }

  /** Pads as the standard says (a 1 bit, zeros, the 64-bit big-endian bit length) and returns the 32 bytes. */
  digest(): Uint8Array {
    if (this.finished) throw new Error('SM3: digest called twice');
    this.finished = true;
    const bits = this.length * 8;
    const tail = new Uint8Array(this.buffered < 56 ? BLOCK : 2 * BLOCK);
    tail.set(this.buffer.subarray(0, this.buffered));
    tail[this.buffered] = 0x80;
    const view = new DataView(tail.buffer);
    view.setUint32(tail.length - 8, Math.floor(bits / 2 ** 32));
    view.setUint32(tail.length - 4, bits >>> 0);
    for (let off = 0; off < tail.length; off += BLOCK) compress(this.v, tail, off);
    const out = new Uint8Array(SM3_LENGTH);
    const outView = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) outView.setUint32(4 * i, this.v[i]!);
    return out;
  }
}

/** SM3 of the concatenated parts, in pure TypeScript (what browsers run). */
export function sm3Js(...parts: Uint8Array[]): Uint8Array {
  const h = new Sm3();
  for (const p of parts) h.update(p);
  return h.digest();
}

type NodeCrypto = typeof import('node:crypto');
const node = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
const nodeHasSm3 = node?.getHashes().includes('sm3') ?? false;

/** SM3 of the concatenated parts: node:crypto's when it has SM3, else `sm3Js`. */
export function sm3(...parts: Uint8Array[]): Uint8Array {
  if (!nodeHasSm3) return sm3Js(...parts);
  const h = node!.createHash('sm3');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}
