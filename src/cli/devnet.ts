import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { toHex } from '../core/bytes.ts';
import { caseRef, newCaseKey, sealLabel } from '../core/case-seal.ts';
import { sha256 } from '../core/crypto.ts';
import type { EvidenceRecord, EvidenceType } from '../core/evidence.ts';
import { loadGenesisFile } from '../core/genesis-file.ts';
import { type DevnetManifest, describeDevnet, startDevnet } from '../dev/devnet.ts';
import { logTail, waitFor } from '../dev/processes.ts';
import { verifyReceipt } from '../receipt/receipt.ts';
import { ApiClient } from './client.ts';
import { runCaseDemo } from './devnet-case-demo.ts';
import { prepareSealing } from './devnet-sealing.ts';
import { resolveIdentity, submitEvidence } from './evidence.ts';
import { type CliIo, parsePositiveInt } from './io.ts';
import { suiteOption } from './keys.ts';
import { formatVerification } from './receipt.ts';

export const SAMPLES: { type: EvidenceType; caseId: string; label: string; text: string }[] = [
  {
    type: 'contract',
    caseId: '2026-BJ-CC-000123',
    label: 'Card agreement',
    text: 'Credit card agreement, signed 2024-03-02.',
  },
  {
    type: 'repayment-record',
    caseId: '2026-BJ-CC-000123',
    label: 'Repayments 2025',
    text: 'Repayment ledger, 2025.',
  },
  {
    type: 'call-record',
    caseId: '2026-BJ-CC-000456',
    label: 'Collection call',
    text: 'Call recording metadata, 2026-02-11.',
  },
  {
    type: 'mediation-agreement',
    caseId: '2026-BJ-CC-000123',
    label: 'Mediation outcome',
    text: 'Mediation agreement.',
  },
];

/**
 * Submits sample evidence from several institutions, then verifies one receipt offline, printing every check.
 * The evidence is sealed (ADR 011): it names its case by the case reference and carries its label encrypted
 * under the case key, which the demo hands to each submitting institution's store.
 */
export async function runDemo(m: DevnetManifest, dir: string, out: (s: string) => void): Promise<boolean> {
  const demoDir = join(resolve(dir), 'demo');
  mkdirSync(demoDir, { recursive: true });
  const sealing = await prepareSealing(m, out);
  const caseKeys = new Map<string, { key: Uint8Array; ref: string }>();
  const sealedCase = (caseId: string) => {
    const key = caseKeys.get(caseId)?.key ?? newCaseKey();
    const c = { key, ref: caseRef(key, caseId) };
    caseKeys.set(caseId, c);
    return c;
  };
  out('demo: submitting sample evidence from several institutions, sealed under case keys');
  let last: { file: string; record: EvidenceRecord; node: string } | undefined;
  for (const [i, s] of SAMPLES.entries()) {
    const node = m.nodes[i % m.nodes.length]!;
    const file = join(demoDir, `${s.type}.txt`);
    writeFileSync(file, `${s.text}\n`);
    const client = new ApiClient(node.apiUrl);
    const id = await resolveIdentity(client, node.clientKey);
    const c = sealedCase(s.caseId);
    sealing.get(id.institution)!.store.put({ caseId: s.caseId, ...c });
    const record: EvidenceRecord = {
      hashAlg: 'sha256',
      hash: sha256(Buffer.from(`${s.text}\n`)),
      caseId: c.ref,
      evidenceType: s.type,
      label: sealLabel(c.key, c.ref, s.label),
      mediaType: 'text/plain',
    };
    const r = await submitEvidence(client, id, record, { wait: true });
    out(
      `  ${id.institution} ${s.type.padEnd(19)} case ${s.caseId}: ${r.state}${r.height ? ` at height ${r.height}` : ''}`,
    );
    last = { file, record, node: m.nodes[(i + 1) % m.nodes.length]!.apiUrl };
  }
  const { file, record, node } = last!;
  out(`demo: fetching the receipt of ${file} from another node and waiting for its RFC 3161 anchor`);
  const client = new ApiClient(node);
  const receipt = await waitFor(
    'the anchor',
    async () => {
      const r = await client.get<{ receipts: { anchor: unknown }[] }>(
        `/v1/receipts/${toHex(record.hash)}`,
        [404],
      );
      const doc = r.body.receipts?.[0];
      return doc && doc.anchor !== null ? doc : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  const v = await verifyReceipt(receipt, {
    genesis: loadGenesisFile(m.genesis),
    file: Buffer.from(`${SAMPLES.at(-1)!.text}\n`),
  });
  out('demo: verifying it offline, with nothing but the genesis and the file:');
  out(formatVerification(v));
  const caseOk = await runCaseDemo(m, out);
  return v.ok && caseOk;
}

export function registerDevnetCommand(program: Command, io: CliIo): void {
  program
    .command('devnet')
    .description(
      'run a local alliance on loopback: N institutions, each with a validator in its own process, plus an\n' +
        'embedded RFC 3161 TSA. Creates DIR on the first run and resumes the same chain afterwards. Writes\n' +
        'DIR/devnet.json for scripts. Stays up until Ctrl-C.',
    )
    .option('--validators <n>', 'number of institutions/validators (first run only)', parsePositiveInt, 4)
    .option('--dir <dir>', 'devnet directory', './devnet')
    .option('--base-port <port>', 'first validator p2p port (first run only)', parsePositiveInt, 7101)
    .option('--api-base-port <port>', 'first API port (first run only)', parsePositiveInt, 8101)
    .option('--tsa-port <port>', 'embedded TSA port (first run only)', parsePositiveInt, 8300)
    .option('--log-format <format>', 'node log format in DIR/logs: json or pretty', 'json')
    .option(
      '--demo',
      'submit sample evidence, wait for commits and verify one receipt offline; then run a dispute case\n' +
        'from complaint to judicial confirmation (bank-a, bank-b: banks; bank-c: mediator; bank-d: court)\n' +
        'and verify its case receipt offline',
    )
    .option(
      '--observer',
      'also a court, court-a, running an observer node that the validators admit (first run only); the\n' +
        "demo's court then records its decision through its own node",
    )
    .option('--exit-after-demo', 'with --demo: stop the devnet when the demo is done')
    .option(
      '--crypto-suite <suite>',
      "the chain's algorithms (first run only, ADR 014): ed25519-sha256 (default) or sm2-sm3 (SM2 keys and\n" +
        'signatures, SM3 hashes; the embedded TSA signs SM2 tokens under an SM2 root)',
    )
    .action(
      async (opts: {
        validators: number;
        dir: string;
        basePort: number;
        apiBasePort: number;
        tsaPort: number;
        logFormat: string;
        demo?: boolean;
        observer?: boolean;
        exitAfterDemo?: boolean;
        cryptoSuite?: string;
      }) => {
        const cryptoSuite = suiteOption(opts.cryptoSuite);
        const out = (s: string) => io.out(`${s}\n`);
        const devnet = await startDevnet({
          dir: opts.dir,
          validators: opts.validators,
          basePort: opts.basePort,
          apiBasePort: opts.apiBasePort,
          tsaPort: opts.tsaPort,
          logFormat: opts.logFormat === 'pretty' ? 'pretty' : 'json',
          out,
          ...(opts.observer ? { observer: true } : {}),
          cryptoSuite,
        });
        let stopping = false;
        const stopped = new Promise<void>((resolveStop) => {
          const stop = (why: string) => {
            if (stopping) return;
            stopping = true;
            out(`\n${why}: stopping the devnet…`);
            devnet.stop().then(() => {
              out('devnet stopped.');
              resolveStop();
            });
          };
          process.once('SIGINT', () => stop('interrupted'));
          process.once('SIGTERM', () => stop('terminated'));
          for (const c of devnet.children) {
            c.exited.then((code) => {
              if (!stopping)
                out(`warning: ${c.name} exited (${code}); last log lines:\n${logTail(c.logFile)}`);
            });
          }
          (async () => {
            out(describeDevnet(devnet.manifest, opts.dir));
            if (opts.demo) {
              const ok = await runDemo(devnet.manifest, opts.dir, out).catch((err: Error) => {
                out(`demo failed: ${err.message}`);
                return false;
              });
              if (!ok) io.setExit(1);
              if (opts.exitAfterDemo) stop('demo done');
            }
          })();
        });
        await stopped;
      },
    );
}
