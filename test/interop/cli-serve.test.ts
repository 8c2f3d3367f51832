/**
 * `jrchain tsa serve` and `jrchain tsa stamp` as real processes (bin/jrchain.ts on the pinned Node), with the
 * resulting token checked by OpenSSL. Children are killed in afterEach whatever happens in the test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/main.ts';
import { opensslVerifies } from '../helpers/openssl.ts';
import { repoRoot, tempDir } from '../helpers/tsa.ts';

const bin = join(repoRoot, 'bin', 'jrchain.ts');
const DEADLINE_MS = 30_000;
const children: ChildProcess[] = [];

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function withDeadline<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${DEADLINE_MS} ms`)), DEADLINE_MS);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** Starts `tsa serve` and resolves with its URL once it prints the `listening <url>` line. */
async function serve(dir: string): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [bin, 'tsa', 'serve', '--dir', dir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const url = await withDeadline(
    new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (c: Buffer) => {
        stdout += c.toString();
        const m = /^listening (\S+)$/m.exec(stdout);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`tsa serve exited with ${code}: ${stderr}`)));
    }),
    'tsa serve',
  );
  return { child, url, stderr: () => stderr };
}

/** Runs the CLI as a child process to completion. */
async function jrchain(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const { code } = await withDeadline(exited(child), `jrchain ${args.join(' ')}`);
  return { code, stdout, stderr };
}

async function quietCli(...args: string[]): Promise<number> {
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return await runCli(args);
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = undefined;
  }
}

let tmp: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  tmp = await tempDir('jrchain-cli-');
  await writeFile(join(tmp.path, 'evidence.txt'), 'call log 2026-05-31 14:02, 6 min\n');
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await exited(c);
  }
});
afterAll(() => tmp.cleanup());

describe('tsa serve + tsa stamp as processes', () => {
  it('round-trips a token OpenSSL accepts, keeps serials across a restart, and stops on signals', async () => {
    const dir = join(tmp.path, 'tsa');
    expect(await quietCli('tsa', 'init', '--dir', dir, '--org', 'Bank E2E')).toBe(0);

    const first = await serve(dir);
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const stamp1 = await jrchain(
      'tsa',
      'stamp',
      join(tmp.path, 'evidence.txt'),
      '--tsa',
      first.url,
      '--out',
      join(tmp.path, 'r1.tsr'),
      '--ca',
      join(dir, 'root.pem'),
      '--json',
    );
    expect(stamp1.code, stamp1.stderr).toBe(0);
    expect(JSON.parse(stamp1.stdout)).toMatchObject({ serial: '01', verified: 'full' });
    const ossl = await opensslVerifies(
      ['-data', 'evidence.txt', '-in', 'r1.tsr', '-CAfile', join(dir, 'root.pem')],
      tmp.path,
    );
    expect(ossl.ok, ossl.output).toBe(true);

    first.child.kill('SIGTERM');
    expect(await withDeadline(exited(first.child), 'SIGTERM')).toEqual({ code: 0, signal: null });
    expect(first.stderr()).toContain('"signal":"SIGTERM"');
    expect(JSON.parse(await readFile(join(dir, 'serial.state'), 'utf8'))).toEqual({ next: '2' });

    const second = await serve(dir);
    const stamp2 = await jrchain(
      'tsa',
      'stamp',
      join(tmp.path, 'evidence.txt'),
      '--tsa',
      second.url,
      '--out',
      join(tmp.path, 'r2.tsr'),
      '--json',
    );
    expect(stamp2.code, stamp2.stderr).toBe(0);
    expect(JSON.parse(stamp2.stdout).serial).toBe('02');
    second.child.kill('SIGINT');
    expect(await withDeadline(exited(second.child), 'SIGINT')).toEqual({ code: 0, signal: null });

    const verify = await jrchain(
      'tsa',
      'verify',
      join(tmp.path, 'r2.tsr'),
      '--file',
      join(tmp.path, 'evidence.txt'),
      '--ca',
      join(dir, 'root.pem'),
    );
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toMatch(/^VALID: .* serial 02/m);
  });

  it('exits 4 when the port is taken, and 3 for a directory that was never initialised', async () => {
    const a = join(tmp.path, 'a');
    const b = join(tmp.path, 'b');
    expect(await quietCli('tsa', 'init', '--dir', a)).toBe(0);
    expect(await quietCli('tsa', 'init', '--dir', b)).toBe(0);
    const running = await serve(a);
    const port = new URL(running.url).port;
    expect(await quietCli('tsa', 'serve', '--dir', b, '--port', port)).toBe(4);
    expect(await quietCli('tsa', 'serve', '--dir', join(tmp.path, 'none'), '--port', '0')).toBe(3);
  });
});
