/** Read-only commands against a node: receipts and status (case queries are in case-query.ts). */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { toHex } from '../core/bytes.ts';
import { ApiClient, nodeUrl } from './client.ts';
import { digestOf } from './evidence.ts';
import { type CliIo, ExitCode, emit } from './io.ts';

const NODE_OPTION = [
  '--node <url>',
  'node API URL (default: $JRCHAIN_NODE or http://127.0.0.1:8100)',
] as const;

export function registerReceiptGetCommand(receipt: Command, io: CliIo): void {
  receipt
    .command('get')
    .description(
      'fetch the receipt of a tx, or of every record of a piece of evidence (by hash or by hashing a file),\n' +
        'and write it to --out. Several records give several files: OUT with -1, -2, ... before the extension.',
    )
    .argument('<hash-or-file>', 'tx hash, evidence digest, or a file to hash')
    .requiredOption('--out <file>', 'where to write the receipt JSON')
    .option(...NODE_OPTION)
    .option('--json', 'print machine-readable JSON')
    .action(async (arg: string, opts: { out: string; node?: string; json?: boolean }) => {
      const d = await digestOf(arg);
      const client = new ApiClient(nodeUrl(opts.node));
      const r = await client.get<{ receipts: { txHash: string; summary: { height: number } }[] }>(
        `/v1/receipts/${toHex(d.hash)}`,
        [404],
      );
      if (r.status === 404) {
        emit(io, opts.json === true, { found: false }, () => `no record or tx with hash ${toHex(d.hash)}\n`);
        io.setExit(ExitCode.failed);
        return;
      }
      const list = r.body.receipts;
      const files = list.map((_, i) =>
        list.length === 1 ? opts.out : opts.out.replace(/(\.[^./]*)?$/, `-${i + 1}$1`),
      );
      for (const [i, doc] of list.entries()) writeFileSync(files[i]!, `${JSON.stringify(doc, null, 2)}\n`);
      const written = list.map((doc, i) => ({
        file: files[i]!,
        txHash: doc.txHash,
        height: doc.summary.height,
      }));
      emit(io, opts.json === true, { found: true, receipts: written }, () =>
        written.map((w) => `wrote ${w.file} (tx ${w.txHash}, block ${w.height})\n`).join(''),
      );
    });
}

interface StatusJson {
  chainId: string;
  institution?: string;
  height: number;
  view: number;
  primary: string;
  consensus?: string;
  lastCommitTime?: string | null;
  peers?: { connected: boolean }[];
  quorum?: number;
  validators?: { institution: string }[];
  anchor?: { anchoredHeight: number; lagBlocks: number; lagMs: number | null } | null;
  sync?: { state: string; targetHeight?: number };
  validatorSet?: {
    epoch: number;
    firstHeight: number;
    n: number;
    f: number;
    quorum: number;
    validators: { institution: string }[];
  };
}

export function registerStatusCommand(program: Command, io: CliIo): void {
  program
    .command('status')
    .description('print a node status: height, view and primary, peers, anchoring lag, sync state')
    .option(...NODE_OPTION)
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { node?: string; json?: boolean }) => {
      const client = new ApiClient(nodeUrl(opts.node));
      const s = (await client.get<StatusJson>('/v1/status')).body;
      emit(io, opts.json === true, s, () => {
        const connected = s.peers?.filter((p) => p.connected).length ?? 0;
        const lines = [
          `chain:      ${s.chainId}${s.institution ? ` (node of ${s.institution})` : ''}`,
          `height:     ${s.height}${s.lastCommitTime ? ` (last commit ${s.lastCommitTime})` : ''}`,
          `view:       ${s.view}, primary ${s.primary}${s.consensus && s.consensus !== 'normal' ? ` [${s.consensus}]` : ''}`,
          `peers:      ${connected} connected${s.quorum ? `, quorum ${s.quorum}` : ''}`,
        ];
        const vs = s.validatorSet;
        if (vs) {
          lines.push(
            `validators: ${vs.validators.map((v) => v.institution).join(', ')} ` +
              `(epoch ${vs.epoch} from height ${vs.firstHeight}; n=${vs.n}, f=${vs.f}, quorum ${vs.quorum})`,
          );
        } else if (s.validators)
          lines.push(`validators: ${s.validators.map((v) => v.institution).join(', ')}`);
        if (s.anchor) {
          lines.push(
            `anchoring:  anchored to height ${s.anchor.anchoredHeight}, lag ${s.anchor.lagBlocks} block(s)` +
              (s.anchor.lagMs !== null ? ` / ${Math.round(s.anchor.lagMs / 1000)} s` : ''),
          );
        }
        if (s.sync)
          lines.push(
            `sync:       ${s.sync.state}${s.sync.targetHeight ? ` to height ${s.sync.targetHeight}` : ''}`,
          );
        return `${lines.join('\n')}\n`;
      });
    });
}
