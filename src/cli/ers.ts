/** RFC 4998 evidence records: export one from a node, verify one offline (ADR 012, docs/long-term.md). */
import { writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { toHex } from '../core/bytes.ts';
import { loadGenesisFile } from '../core/genesis-file.ts';
import { type ErsVerification, verifyEvidenceRecord } from '../timestamp/ers-verify.ts';
import { parsePemCertificates } from '../timestamp/x509.ts';
import { ApiClient, nodeUrl } from './client.ts';
import { digestOf } from './evidence.ts';
import { type CliIo, ExitCode, emit, UsageError } from './io.ts';
import { readInputFile } from './receipt.ts';

function registerExport(receipt: Command, io: CliIo): void {
  receipt
    .command('export')
    .description(
      'fetch the RFC 4998 evidence record (DER) of a tx, or of the first record of a piece of evidence, and\n' +
        'write it to --out. Any ERS verifier checks it with the document alone; it exists once an anchor\n' +
        'with an archive timestamp covers the block (else RECEIPT_NOT_ARCHIVED).',
    )
    .argument('<hash-or-file>', 'tx hash, SHA-256 evidence digest, or a file to hash')
    .addOption(new Option('--format <format>', 'the export format').choices(['ers']).makeOptionMandatory())
    .requiredOption('-o, --out <file>', 'where to write the evidence record')
    .option('--node <url>', 'node API URL (default: $JRCHAIN_NODE or http://127.0.0.1:8100)')
    .option('--json', 'print machine-readable JSON')
    .action(async (arg: string, opts: { out: string; node?: string; json?: boolean }) => {
      const d = await digestOf(arg);
      if (d.hashAlg !== 'sha256') throw new UsageError('evidence records cover SHA-256 evidence hashes only');
      const client = new ApiClient(nodeUrl(opts.node));
      const r = await client.get<{ txHash: string; height: number; ers: string }>(
        `/v1/evidence-records/${toHex(d.hash)}`,
        [404],
      );
      if (r.status === 404) {
        emit(io, opts.json === true, { found: false }, () => `no record or tx with hash ${toHex(d.hash)}\n`);
        io.setExit(ExitCode.failed);
        return;
      }
      const der = Buffer.from(r.body.ers, 'base64');
      writeFileSync(opts.out, der);
      const out = {
        found: true,
        file: opts.out,
        txHash: r.body.txHash,
        height: r.body.height,
        bytes: der.length,
      };
      emit(io, opts.json === true, out, () => `wrote ${opts.out} (tx ${out.txHash}, block ${out.height})\n`);
    });
}

function formatErs(v: ErsVerification): string {
  const lines = v.steps.map(
    (s) =>
      `ok   chain ${s.chain} timestamp ${s.index}: ${s.hashAlg}, ${s.genTime.toISOString()} by ${s.signer}, valid until ${s.validUntil.toISOString()}`,
  );
  if (v.ok) {
    lines.push(
      '',
      `PROVEN: the document existed no later than ${v.provenAt.toISOString()} (RFC 4998 evidence record)`,
    );
    lines.push(`  renew before ${v.renewBefore.toISOString()}`);
  } else lines.push(`FAIL ${v.reason}`, '', 'NOT PROVEN');
  return `${lines.join('\n')}\n`;
}

function registerVerify(receipt: Command, io: CliIo): void {
  receipt
    .command('verify-ers')
    .description(
      'verify an RFC 4998 evidence record offline for a document: the reduced hash tree, each archive\n' +
        'timestamp (RFC 3161 checks and a path to the trust anchors), and that each was renewed before the\n' +
        'one before it expired. Exits 0 only when the document is proven.',
    )
    .argument('<record>', 'the evidence record (DER)')
    .requiredOption('--doc <file>', 'the document the record must protect')
    .option('--genesis <file>', 'take the TSA trust anchors from this genesis')
    .option('--tsa-ca <pem>', 'TSA root certificate(s), PEM (instead of the genesis)')
    .option('--at <time>', 'verification time, ISO 8601 (default: now)')
    .option('--json', 'print machine-readable JSON')
    .action(
      (
        file: string,
        opts: { doc: string; genesis?: string; tsaCa?: string; at?: string; json?: boolean },
      ) => {
        const pem =
          opts.tsaCa !== undefined
            ? readInputFile(opts.tsaCa, 'TSA CA').toString('utf8')
            : opts.genesis !== undefined
              ? loadGenesisFile(opts.genesis).tsa.trustAnchors.join('\n')
              : undefined;
        if (pem === undefined || pem.trim() === '')
          throw new UsageError('give --tsa-ca, or a --genesis that lists TSA trust anchors');
        const at = opts.at === undefined ? new Date() : new Date(opts.at);
        if (Number.isNaN(at.getTime())) throw new UsageError('--at must be an ISO 8601 time');
        const v = verifyEvidenceRecord(readInputFile(file, 'evidence record'), {
          document: { data: readInputFile(opts.doc, 'document') },
          trustAnchors: parsePemCertificates(pem, 'TSA trust anchors'),
          at,
        });
        emit(io, opts.json === true, v, () => formatErs(v));
        if (!v.ok) io.setExit(ExitCode.failed);
      },
    );
}

export function registerErsCommands(receipt: Command, io: CliIo): void {
  registerExport(receipt, io);
  registerVerify(receipt, io);
}
