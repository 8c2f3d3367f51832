/**
 * `jrchain devnet` as a child process for end-to-end tests, and the real CLI run against it: one copy of the
 * start, stop and record-then-fetch-a-receipt steps the e2e suites share.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DevnetManifest } from '../../src/dev/devnet.ts';
import {
  type Child,
  JRCHAIN_BIN,
  logTail,
  spawnJrchain,
  stopChild,
  waitFor,
} from '../../src/dev/processes.ts';
import { freePortBlock } from './ports.ts';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI as a child process (asynchronously: a blocked event loop would stall the HTTP client). */
export function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [JRCHAIN_BIN, ...args],
      { encoding: 'utf8', timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Starts `jrchain devnet --dir devnetDir ...args` on a free block of loopback ports (`nodes` p2p ports, as
 * many API ports, then the TSA) and waits until it says it is ready; its log goes to `logFile`.
 */
export async function spawnDevnet(
  name: string,
  devnetDir: string,
  logFile: string,
  nodes: number,
  args: readonly string[] = [],
): Promise<{ devnet: Child; manifest: DevnetManifest }> {
  const base = await freePortBlock(2 * nodes + 1);
  const ports = [
    '--base-port',
    `${base}`,
    '--api-base-port',
    `${base + nodes}`,
    '--tsa-port',
    `${base + 2 * nodes}`,
  ];
  const devnet = spawnJrchain(name, ['devnet', ...args, '--dir', devnetDir, ...ports], logFile);
  await waitFor(
    'the devnet',
    async () => (/Press Ctrl-C/.test(logTail(devnet.logFile, 60)) ? true : undefined),
    { timeoutMs: 120_000, child: devnet },
  );
  return { devnet, manifest: JSON.parse(readFileSync(join(devnetDir, 'devnet.json'), 'utf8')) };
}

/** Stops the devnet; a non-zero exit prints its log's tail. */
export async function stopDevnet(devnet: Child | undefined): Promise<void> {
  if (devnet === undefined) return;
  const code = await stopChild(devnet, 20_000);
  if (code !== 0) console.error(`devnet exited with ${code}:\n${logTail(devnet.logFile, 40)}`);
}

/**
 * Writes `text` to `file`, records it with the first node's client key through `jrchain evidence submit`, and
 * fetches its receipt from the fourth node (another institution's) into `out` once an anchor covers it.
 */
export async function recordAndFetchReceipt(
  m: DevnetManifest,
  file: string,
  text: string,
  caseId: string,
  out: string,
  timeoutMs: number,
): Promise<{ submit: CliResult; receipt: any }> {
  writeFileSync(file, text);
  const [a, , , d] = m.nodes;
  const args = ['evidence', 'submit', file, '--case', caseId, '--type', 'contract'];
  const submit = await cli(...args, '--key', a!.clientKey, '--node', a!.apiUrl, '--wait', '--json');
  if (submit.code !== 0) return { submit, receipt: undefined };
  await waitFor(
    'an anchored receipt',
    async () => {
      const g = await cli('receipt', 'get', file, '--out', out, '--node', d!.apiUrl);
      return g.code === 0 && JSON.parse(readFileSync(out, 'utf8')).anchor !== null ? true : undefined;
    },
    { timeoutMs, intervalMs: 1000 },
  );
  return { submit, receipt: JSON.parse(readFileSync(out, 'utf8')) };
}
