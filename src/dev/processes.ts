/**
 * Child processes of the devnet, the cluster benchmark and the test harnesses: each runs `bin/jrchain.ts` under
 * the same Node, with its output appended to a log file, and stops with SIGTERM, then SIGKILL after a grace
 * period. Also the loopback port probe they use before starting.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const JRCHAIN_BIN = fileURLToPath(new URL('../../bin/jrchain.ts', import.meta.url));

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly logFile: string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
}

/** `script` is the entry point to run instead of bin/jrchain.ts (test harnesses wrap the CLI). */
export function spawnJrchain(
  name: string,
  args: string[],
  logFile: string,
  env: NodeJS.ProcessEnv = {},
  script: string = JRCHAIN_BIN,
): Child {
  const fd = openSync(logFile, 'a');
  const proc = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', fd, fd],
    // glibc gives each thread that allocates (libuv's pool, LevelDB's) its own malloc arena, and a busy validator's
    // RSS grows with them: two arenas cut its peak by about 50 MiB at 1,700 tx/s (docs/benchmark.md). The
    // caller's environment wins; other C libraries ignore the variable.
    env: { MALLOC_ARENA_MAX: '2', ...process.env, ...env },
  });
  closeSync(fd);
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    proc.once('error', (err) => resolve(`spawn error: ${err.message}`));
  });
  return { name, proc, logFile, exited };
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL. */
export async function stopChild(c: Child, graceMs = 10_000): Promise<number | string> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return c.exited;
  c.proc.kill('SIGTERM');
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), graceMs);
  try {
    return await c.exited;
  } finally {
    clearTimeout(timer);
  }
}

export function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `check` until it returns a value, the child dies, or the deadline passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  opts: { timeoutMs: number; child?: Child; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (opts.child && (opts.child.proc.exitCode !== null || opts.child.proc.signalCode !== null)) {
      throw new Error(`${opts.child.name} exited while waiting for ${what}:\n${logTail(opts.child.logFile)}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}

/** Whether a TCP port on loopback is free to listen on now. */
export async function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}
