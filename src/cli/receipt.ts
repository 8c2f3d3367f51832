import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { loadGenesisFile } from '../core/genesis-file.ts';
import {
  type ReceiptVerification,
  VERIFICATION_PROFILES,
  type VerificationProfile,
  verifyReceipt,
} from '../receipt/receipt.ts';
import { CliError, CliErrorCode, type CliIo, ExitCode, emit, UsageError } from './io.ts';

export function readInputFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(
      CliErrorCode.fileUnreadable,
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

export function readJsonFile(path: string, what: string): unknown {
  const text = readInputFile(path, what).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(
      CliErrorCode.fileNotJson,
      `${what} ${path} is not valid JSON: ${(err as Error).message}`,
    );
  }
}

const MARK = { pass: 'ok  ', fail: 'FAIL', skip: '--  ' } as const;

/** One line per check run (a failure ends with its code), then the verdict. `--json` prints `v` as it is. */
export function formatVerification(v: ReceiptVerification): string {
  const lines = v.checks.map(
    (c) => `${MARK[c.status]} ${c.name.padEnd(14)} ${c.detail}${c.code === undefined ? '' : ` [${c.code}]`}`,
  );
  if (v.ok && v.facts !== undefined) {
    const f = v.facts;
    lines.push('');
    lines.push(`PROVEN: evidence ${f.hashAlg}:${f.evidenceHash}`);
    lines.push(
      `  case ${f.caseId}, recorded by ${f.institution} in block ${f.height} at ${f.blockTime.toISOString()}`,
    );
    if (f.anchoredAt !== undefined)
      lines.push(`  existed no later than ${f.anchoredAt.toISOString()} (RFC 3161 anchor)`);
    if (f.archive !== undefined) {
      const [first, ...renewals] = f.archive.steps;
      lines.push(
        `  evidence hash archived at ${f.archive.provenAt.toISOString()} by ${first!.signer} (RFC 4998)`,
      );
      for (const [i, r] of renewals.entries()) {
        lines.push(
          `  renewal ${i + 1} at ${r.genTime.toISOString()} by ${r.signer}, valid until ${r.validUntil.toISOString()}`,
        );
      }
      lines.push(`  renew the archive before ${f.archive.renewBefore.toISOString()}`);
    }
    if (f.evidenceTokenTime !== undefined) {
      lines.push(
        `  evidence hash time-stamped at ${f.evidenceTokenTime.toISOString()} (its own RFC 3161 token)`,
      );
    }
  } else {
    lines.push('', 'NOT PROVEN: the receipt failed a check');
  }
  return `${lines.join('\n')}\n`;
}

/** The `--at` option of the verify commands: an ISO 8601 time, or undefined when not given. */
export function verificationTime(at: string | undefined): Date | undefined {
  if (at === undefined) return undefined;
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) throw new UsageError('--at must be an ISO 8601 time');
  return d;
}

export const AT_OPTION_HELP =
  'verify as of this time, ISO 8601: the anchor token, or the renewed archive timestamps of a v4\n' +
  'receipt, must still be valid then (default: each token as of when it was made)';

export function registerReceiptCommands(program: Command, io: CliIo): void {
  const receipt = program.command('receipt').description('get and verify evidence receipts');

  receipt
    .command('verify')
    .description(
      'verify a receipt offline, with no node: genesis, header, governance (the validator-set and key\n' +
        'changes since the genesis, replayed), commit certificate (quorum of validator signatures), institution\n' +
        'signature, Merkle inclusion, RFC 3161 anchor, archive timestamps with their renewals (v4) and evidence\n' +
        'token. Prints each check in order up to the first that fails, with its failure code (docs/receipts.md);\n' +
        '--json names the checks by the same stable names. Exits 0 only when all pass, 1 when one fails.',
    )
    .argument('<receipt>', 'receipt JSON file')
    .requiredOption('--genesis <file>', 'the genesis of the chain the receipt claims')
    .option('--file <evidence>', 'the evidence file; its hash must match the recorded hash')
    .option('--tsa-ca <pem>', 'TSA root certificate(s), PEM (default: the genesis trust anchors)')
    .option('--require-anchor', 'fail unless the block is anchored by an RFC 3161 token')
    .addOption(
      new Option('--profile <name>', 'court: the RFC 3161 anchor is required (docs/receipts.md)')
        .choices(VERIFICATION_PROFILES)
        .default('standard'),
    )
    .option('--at <time>', AT_OPTION_HELP)
    .option('--json', 'print machine-readable JSON')
    .action(
      async (
        file: string,
        opts: {
          genesis: string;
          at?: string;
          file?: string;
          tsaCa?: string;
          requireAnchor?: boolean;
          profile: VerificationProfile;
          json?: boolean;
        },
      ) => {
        const at = verificationTime(opts.at);
        const genesis = loadGenesisFile(opts.genesis);
        const doc = readJsonFile(file, 'receipt');
        const v = await verifyReceipt(doc, {
          genesis,
          ...(opts.file !== undefined ? { file: readInputFile(opts.file, 'evidence file') } : {}),
          ...(opts.tsaCa !== undefined
            ? { tsaTrustAnchorsPem: readInputFile(opts.tsaCa, 'TSA CA').toString('utf8') }
            : {}),
          ...(opts.requireAnchor ? { requireAnchor: true } : {}),
          profile: opts.profile,
          at,
        });
        emit(io, opts.json === true, v, () => formatVerification(v));
        if (!v.ok) io.setExit(ExitCode.failed);
      },
    );
}
