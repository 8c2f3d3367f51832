/** Evidence files on the institution's machine: expanded from paths, hashed locally, never uploaded. */
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { HashAlg } from '../core/evidence.ts';
import { CliError, CliErrorCode } from './errors.ts';

/** Regular files named by `paths`; directories are walked recursively, in name order. */
export function expandInputs(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch (err) {
      throw new CliError(
        CliErrorCode.fileUnreadable,
        `cannot read ${p}: ${(err as NodeJS.ErrnoException).code}`,
      );
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) walk(join(p, name));
    } else if (st.isFile()) {
      out.push(p);
    }
  };
  for (const p of paths) walk(p);
  return out;
}

/** Streams the file through the hash; content never leaves this process. */
export async function hashFile(
  path: string,
  alg: HashAlg = 'sha256',
): Promise<{ hash: Uint8Array; size: number }> {
  const h = createHash(alg);
  let size = 0;
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      h.update(chunk);
      size += chunk.length;
    }
  } catch (err) {
    throw new CliError(
      CliErrorCode.fileUnreadable,
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
  return { hash: new Uint8Array(h.digest()), size };
}

/** A one-line progress bar on a terminal; silent when stderr is not a TTY (scripts, CI). */
export class Progress {
  private readonly total: number;
  private readonly enabled: boolean;
  private done = 0;

  constructor(total: number, stream: NodeJS.WriteStream = process.stderr) {
    this.total = total;
    this.enabled = stream.isTTY === true && total > 1;
    this.stream = stream;
  }
  private readonly stream: NodeJS.WriteStream;

  tick(label: string): void {
    this.done++;
    if (!this.enabled) return;
    const width = 30;
    const filled = Math.round((this.done / this.total) * width);
    const name = label.length > 40 ? `…${label.slice(-39)}` : label;
    this.stream.write(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} ${name.padEnd(40)}`,
    );
    if (this.done === this.total) this.stream.write('\n');
  }
}
