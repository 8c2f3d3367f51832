/**
 * Unique TSA serial numbers that survive restarts and crashes. We reserve a block of serials by durably
 * writing its upper bound (write temp file, fsync, rename, fsync directory) before handing out any serial in
 * it. A crash loses at most the rest of the block (a gap), never reuses a serial. A clean stop writes back
 * the next unused serial, so restarts leave no gap. A lock file keeps a second process off the directory.
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TimestampError, TimestampErrorCode } from './errors.ts';
import { TsaLimits } from './limits.ts';
import type { SerialSource } from './tsa.ts';

export const SERIAL_FILE = 'serial.state';
export const LOCK_FILE = 'tsa.lock';

async function writeDurably(dir: string, name: string, contents: string, mode: number): Promise<void> {
  const tmp = join(dir, `${name}.tmp`);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(contents);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `dir/tsa.lock` (holding our pid). A lock left by a dead process is taken over. */
export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      try {
        await fh.writeFile(`${process.pid}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return async () => {
        const held = await readFile(path, 'utf8').catch(() => '');
        if (held.trim() === String(process.pid)) await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isSafeInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new TimestampError(TimestampErrorCode.dirLocked, `${dir} is in use by process ${pid}`, { pid });
      }
      await unlink(path).catch(() => undefined);
    }
  }
  throw new TimestampError(TimestampErrorCode.dirLocked, `could not take ${path}`);
}

export class FileSerialStore implements SerialSource {
  readonly #dir: string;
  readonly #block: bigint;
  #next = 0n;
  #limit = 0n;
  #running = false;
  #reserving: Promise<void> | undefined;
  #release: (() => Promise<void>) | undefined;

  constructor(dir: string, opts: { blockSize?: number } = {}) {
    this.#dir = dir;
    this.#block = BigInt(opts.blockSize ?? TsaLimits.serialBlock);
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#release = await acquireLock(this.#dir);
    try {
      this.#next = await this.#readState();
      this.#limit = this.#next;
      this.#running = true;
    } catch (err) {
      await this.#release();
      throw err;
    }
  }

  async #readState(): Promise<bigint> {
    let text: string;
    try {
      text = await readFile(join(this.#dir, SERIAL_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 1n;
      throw new TimestampError(TimestampErrorCode.serialStore, `cannot read ${SERIAL_FILE}`, undefined, {
        cause: err,
      });
    }
    // Refusing to start beats guessing: a wrong guess could reuse serials.
    const m = /^\{"next":"([1-9]\d{0,47})"\}\n$/.exec(text);
    if (!m)
      throw new TimestampError(
        TimestampErrorCode.serialStore,
        `${SERIAL_FILE} is corrupt; refusing to start`,
      );
    return BigInt(m[1]!);
  }

  #write(next: bigint): Promise<void> {
    return writeDurably(this.#dir, SERIAL_FILE, `${JSON.stringify({ next: next.toString() })}\n`, 0o644);
  }

  async next(): Promise<bigint> {
    for (;;) {
      if (!this.#running)
        throw new TimestampError(TimestampErrorCode.notStarted, 'serial store is not started');
      if (this.#next < this.#limit) return this.#next++;
      this.#reserving ??= this.#reserve().finally(() => {
        this.#reserving = undefined;
      });
      await this.#reserving;
    }
  }

  async #reserve(): Promise<void> {
    const limit = this.#limit + this.#block;
    try {
      await this.#write(limit);
    } catch (err) {
      throw new TimestampError(
        TimestampErrorCode.serialStore,
        'cannot persist the serial high-water mark',
        undefined,
        {
          cause: err,
        },
      );
    }
    this.#limit = limit;
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    await this.#reserving?.catch(() => undefined);
    try {
      if (this.#limit > 0n) await this.#write(this.#next);
    } finally {
      await this.#release?.();
      this.#release = undefined;
    }
  }
}
