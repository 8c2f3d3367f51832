import { spawnSync } from 'node:child_process';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTimestampError, TimestampErrorCode } from '../../../src/timestamp/errors.ts';
import { FileSerialStore, LOCK_FILE, SERIAL_FILE } from '../../../src/timestamp/serial.ts';
import { tempDir } from '../../helpers/tsa.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

async function take(store: FileSerialStore, n: number): Promise<bigint[]> {
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) out.push(await store.next());
  return out;
}

const state = async () => JSON.parse(await readFile(join(dir, SERIAL_FILE), 'utf8')).next as string;

describe('FileSerialStore', () => {
  it('starts at 1 and persists the reserved high-water mark before handing out a serial', async () => {
    const store = new FileSerialStore(dir, { blockSize: 10 });
    await store.start();
    expect(await take(store, 3)).toEqual([1n, 2n, 3n]);
    expect(await state()).toBe('11');
    await take(store, 8); // crosses into a second block
    expect(await state()).toBe('21');
    await store.stop();
    expect(await state()).toBe('12');
  });

  it('continues without a gap after a clean stop', async () => {
    const a = new FileSerialStore(dir, { blockSize: 10 });
    await a.start();
    await take(a, 5);
    await a.stop();
    const b = new FileSerialStore(dir, { blockSize: 10 });
    await b.start();
    expect(await b.next()).toBe(6n);
    await b.stop();
  });

  it('never reuses a serial after a crash (it skips the rest of the block)', async () => {
    const a = new FileSerialStore(dir, { blockSize: 10 });
    await a.start();
    const used = await take(a, 4);
    // Crash: no stop(). The lock file stays; a dead owner's lock is taken over, which we model by removing it.
    await rm(join(dir, LOCK_FILE));
    const b = new FileSerialStore(dir, { blockSize: 10 });
    await b.start();
    const next = await b.next();
    expect(next).toBe(11n);
    expect(used.every((s) => s < next)).toBe(true);
    await b.stop();
  });

  it('gives unique serials to concurrent callers across block boundaries', async () => {
    const store = new FileSerialStore(dir, { blockSize: 7 });
    await store.start();
    const serials = await Promise.all(Array.from({ length: 100 }, () => store.next()));
    expect(new Set(serials).size).toBe(100);
    expect(serials.toSorted((x, y) => Number(x - y))).toEqual(
      Array.from({ length: 100 }, (_, i) => BigInt(i + 1)),
    );
    await store.stop();
  });

  it('keeps a second user off the directory while the first holds it, and releases on stop', async () => {
    const a = new FileSerialStore(dir);
    await a.start();
    const err = await new FileSerialStore(dir).start().catch((e: unknown) => e);
    expect(isTimestampError(err, TimestampErrorCode.dirLocked)).toBe(true);
    await a.stop();
    await expect(stat(join(dir, LOCK_FILE))).rejects.toThrow();
    const b = new FileSerialStore(dir);
    await b.start();
    await b.stop();
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    await writeFile(join(dir, LOCK_FILE), `${child.stdout}\n`);
    const store = new FileSerialStore(dir);
    await store.start();
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    await store.stop();
  });

  it('refuses to start on a corrupt state file, and after stop', async () => {
    await writeFile(join(dir, SERIAL_FILE), '{"next":"12x"}\n');
    const err = await new FileSerialStore(dir).start().catch((e: unknown) => e);
    expect(isTimestampError(err, TimestampErrorCode.serialStore)).toBe(true);
    await rm(join(dir, SERIAL_FILE));
    const store = new FileSerialStore(dir);
    await store.start();
    await store.stop();
    const after = await store.next().catch((e: unknown) => e);
    expect(isTimestampError(after, TimestampErrorCode.notStarted)).toBe(true);
  });
});
