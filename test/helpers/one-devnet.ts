/** A one-validator devnet (validator and TSA as processes on loopback) for tests against a real node. */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunningDevnet, startDevnet } from '../../src/dev/devnet.ts';
import { JRCHAIN_BIN } from '../../src/dev/processes.ts';
import { freePortBlock } from './ports.ts';

/** Starts the devnet under `dir`/devnet on a free block of loopback ports. */
export async function startOneValidatorDevnet(dir: string): Promise<RunningDevnet> {
  const base = await freePortBlock(3);
  return startDevnet({
    dir: join(dir, 'devnet'),
    validators: 1,
    basePort: base,
    apiBasePort: base + 1,
    tsaPort: base + 2,
    logFormat: 'json',
    out: () => undefined,
  });
}

/** Writes `text` to `file`, records it through the real CLI and waits for its commit. */
export function submitEvidenceCli(
  devnet: RunningDevnet,
  file: string,
  text: string,
  caseId: string,
  type: string,
): Promise<void> {
  writeFileSync(file, text);
  const node = devnet.manifest.nodes[0]!;
  const args = ['evidence', 'submit', file, '--case', caseId, '--type', type];
  args.push('--key', node.clientKey, '--node', node.apiUrl, '--wait', '--json');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [JRCHAIN_BIN, ...args], { timeout: 120_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`evidence submit failed: ${stderr}`)) : resolve(),
    );
  });
}
