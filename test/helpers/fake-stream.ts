/**
 * A stand-in for a libp2p 3 stream with just the surface the p2p channels use, so their write and read loops
 * can be driven step by step in unit tests.
 */
import type { Stream } from '@libp2p/interface';

export class FakeStream extends EventTarget {
  readonly writes: Uint8Array[] = [];
  writableNeedsDrain = false;
  /** When set, every send leaves the stream needing a drain (a full window). */
  saturateAfterWrite = false;
  writeStatus: 'writable' | 'closed' = 'writable';
  readStatus: 'readable' | 'paused' | 'closed' = 'readable';
  abortedWith: Error | undefined;
  pauses = 0;
  resumes = 0;
  /** When set, resume() throws it after resuming, as Yamux does when the connection is gone. */
  resumeError: Error | undefined;

  get asStream(): Stream {
    return this as unknown as Stream;
  }

  send(data: Uint8Array): boolean {
    if (this.writeStatus !== 'writable') throw new Error('stream closed');
    this.writes.push(data);
    if (this.saturateAfterWrite) this.writableNeedsDrain = true;
    return !this.writableNeedsDrain;
  }

  drain(): void {
    this.writableNeedsDrain = false;
    this.dispatchEvent(new Event('drain'));
  }

  abort(err: Error): void {
    if (this.abortedWith !== undefined) return;
    this.abortedWith = err;
    this.writeStatus = 'closed';
    this.readStatus = 'closed';
    this.dispatchEvent(new Event('close'));
  }

  /** The remote reset the stream. */
  remoteReset(): void {
    this.writeStatus = 'closed';
    this.readStatus = 'closed';
    this.dispatchEvent(new Event('close'));
  }

  pause(): void {
    this.pauses++;
    this.readStatus = 'paused';
  }

  resume(): void {
    this.resumes++;
    this.readStatus = 'readable';
    if (this.resumeError) throw this.resumeError;
  }

  /** Delivers bytes from the remote as a 'message' event. */
  deliver(data: Uint8Array): void {
    const evt = new Event('message') as Event & { data: Uint8Array };
    evt.data = data;
    this.dispatchEvent(evt);
  }
}
