/**
 * One strict decoding per sent bytes object, shared by the observer and every receiver of those bytes (the
 * simulated network hands each receiver the very object that was sent). Keyed by object identity only: bytes a
 * Byzantine sender altered are another object and get their own decoding, and so do a copy's. Results are
 * deep-frozen so that no receiver can change what another one sees (a write throws in these strict modules);
 * a refusal is remembered too and thrown again, with the same message, to each receiver.
 */
import { type ConsensusMessage, decodeMessage } from '../../src/consensus/messages.ts';

export class SharedDecoder {
  private readonly memo = new WeakMap<Uint8Array, ConsensusMessage | Error>();
  /** Decodings actually run (the rest came from the memo): for tests. */
  decodings = 0;

  readonly decode = (bytes: Uint8Array): ConsensusMessage => {
    let m = this.memo.get(bytes);
    if (m === undefined) {
      this.decodings++;
      try {
        m = deepFreeze(decodeMessage(bytes));
      } catch (err) {
        m = err as Error;
      }
      this.memo.set(bytes, m);
    }
    if (m instanceof Error) throw m;
    return m;
  };
}

/** Freezes plain objects and arrays all the way down; byte arrays cannot be frozen and are left as they are. */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || Object.isFrozen(value))
    return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}
