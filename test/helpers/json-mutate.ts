/**
 * Mutation of JSON documents (receipts) for robustness tests: one change at a random place, chosen to reach
 * past the first check: wrong types and extreme numbers, dropped or repeated entries, and edits inside the
 * bytes of base64 and hex fields (the canonical encodings behind them). Deterministic for a given Prng.
 */
import type { Prng } from '../sim/prng.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface Place {
  parent: Json[] | { [k: string]: Json };
  key: string | number;
}

function places(v: Json, out: Place[] = []): Place[] {
  if (Array.isArray(v)) {
    v.forEach((c, i) => {
      out.push({ parent: v, key: i });
      places(c, out);
    });
  } else if (typeof v === 'object' && v !== null) {
    for (const [k, c] of Object.entries(v)) {
      out.push({ parent: v, key: k });
      places(c, out);
    }
  }
  return out;
}

const B64 = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^(?:[0-9a-f]{2})+$/;

function deep(depth: number): Json {
  let v: Json = 0;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

function oddValue(rng: Prng): Json {
  return rng.pick<() => Json>([
    () => null,
    () => true,
    () => -1,
    () => 1.5,
    () => 2 ** 53,
    () => 1e300,
    () => '',
    () => 'zz',
    () => '====',
    () => [],
    () => ({}),
    () => ({ __proto__: null, constructor: 'x' }) as Json,
    () => deep(500),
    () => 'A'.repeat(rng.int(1, 5000)),
  ])();
}

function mutateBytes(bytes: Buffer, rng: Prng): Buffer {
  const out = Buffer.from(bytes);
  switch (rng.int(0, 3)) {
    case 0:
      if (out.length > 0) out[rng.int(0, out.length - 1)]! ^= 1 << rng.int(0, 7);
      return out;
    case 1:
      return out.subarray(0, rng.int(0, out.length));
    case 2:
      return Buffer.concat([out, Buffer.from([rng.int(0, 255)])]);
    default: // a byte set to an extreme: reaches varints, lengths and counts
      if (out.length > 0) out[rng.int(0, out.length - 1)] = rng.pick([0x00, 0x7f, 0x80, 0xff]);
      return out;
  }
}

function mutateValue(v: Json, rng: Prng): Json {
  if (typeof v === 'string' && rng.chance(0.7)) {
    if (HEX.test(v)) return mutateBytes(Buffer.from(v, 'hex'), rng).toString('hex');
    if (B64.test(v)) return mutateBytes(Buffer.from(v, 'base64'), rng).toString('base64');
  }
  if (typeof v === 'number' && rng.chance(0.5)) return v + rng.pick([-1, 1, 2 ** 31, -(2 ** 31)]);
  return oddValue(rng);
}

/** A deep copy of `doc` with one mutation. */
export function mutateJson<T>(doc: T, rng: Prng): T {
  const copy = structuredClone(doc) as Json;
  const all = places(copy);
  if (all.length === 0) return oddValue(rng) as T;
  const { parent, key } = rng.pick(all);
  const op = rng.int(0, 9);
  if (Array.isArray(parent)) {
    const i = key as number;
    if (op === 0) parent.splice(i, 1);
    else if (op === 1) parent.splice(i, 0, structuredClone(parent[i]!));
    else parent[i] = mutateValue(parent[i]!, rng);
  } else {
    const k = key as string;
    if (op === 0) delete parent[k];
    else parent[k] = mutateValue(parent[k]!, rng);
  }
  return copy as T;
}
