/**
 * A bounded FIFO of outbound frames for one peer and protocol. Bounded by frame count and by bytes; when
 * either bound would be exceeded the new frame is refused (drop-newest), so the caller learns which frame
 * was not queued. A ring of arrays would be faster for huge queues; an array with a moving head and
 * occasional compaction is plenty at these bounds.
 */
export class PeerQueue {
  readonly maxFrames: number;
  readonly maxBytes: number;
  private items: Uint8Array[] = [];
  private head = 0;
  private byteCount = 0;

  constructor(maxFrames: number, maxBytes: number) {
    this.maxFrames = maxFrames;
    this.maxBytes = maxBytes;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.byteCount;
  }

  /** Appends the frame, or returns false (and keeps nothing) when a bound would be exceeded. */
  push(frame: Uint8Array): boolean {
    if (this.length >= this.maxFrames || this.byteCount + frame.length > this.maxBytes) return false;
    this.items.push(frame);
    this.byteCount += frame.length;
    return true;
  }

  /**
   * Removes frames from the front up to `maxBytes` of body (always at least one frame, so a frame larger
   * than the batch still goes out alone).
   */
  takeBatch(maxBytes: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let size = 0;
    while (this.head < this.items.length) {
      const f = this.items[this.head]!;
      if (out.length > 0 && size + f.length > maxBytes) break;
      out.push(f);
      size += f.length;
      this.head++;
    }
    this.byteCount -= size;
    this.compact();
    return out;
  }

  /** Empties the queue and returns how many frames were discarded. */
  clear(): number {
    const n = this.length;
    this.items = [];
    this.head = 0;
    this.byteCount = 0;
    return n;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
