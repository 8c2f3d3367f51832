import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { JrError } from '../core/errors.ts';
import {
  type CaseSealing,
  CaseSealingModes,
  DEFAULT_CASE_SEALING,
  describeGenesis,
  GenesisErrorCode,
  genesisToJson,
} from '../core/genesis.ts';
import { loadGenesisFile } from '../core/genesis-file.ts';
import { assembleGenesis, readMemberFile } from '../core/member.ts';
import { type ConsensusParams, DEFAULT_CONSENSUS_PARAMS } from '../core/params.ts';
import { CliError, CliErrorCode, type CliIo, collect, ExitCode, emit, UsageError } from './io.ts';
import { suiteOption } from './keys.ts';

function parseConsensusOverrides(pairs: string[]): Partial<ConsensusParams> {
  const out: Partial<ConsensusParams> = {};
  for (const pair of pairs) {
    const m = /^([A-Za-z]+)=(\d+)$/.exec(pair);
    if (m === null || !Object.hasOwn(DEFAULT_CONSENSUS_PARAMS, m[1]!)) {
      throw new UsageError(
        `--consensus expects key=integer with key one of: ${Object.keys(DEFAULT_CONSENSUS_PARAMS).join(', ')}`,
      );
    }
    out[m[1] as keyof ConsensusParams] = Number(m[2]);
  }
  return out;
}

function describeText(d: Record<string, unknown>): string {
  return Object.entries(d)
    .map(([k, v]) => `${k}: ${String(v)}\n`)
    .join('');
}

export function registerGenesisCommands(program: Command, io: CliIo): void {
  const genesis = program
    .command('genesis')
    .description('assemble and check the genesis that defines a chain');
  registerCreate(genesis, io);
  registerVerify(genesis, io);
}

function registerCreate(genesis: Command, io: CliIo): void {
  genesis
    .command('create')
    .description(
      'assemble a genesis from member descriptions (one jrchain-member/v1 file per institution, as written\n' +
        'by `jrchain init`), in the order given: that order fixes validator indexes and primary rotation.',
    )
    .requiredOption('--chain-id <id>', 'chain id, e.g. jingrong-1 (lower-case letters, digits, . _ -)')
    .requiredOption('--member <file>', 'member description file (repeat for each institution)', collect)
    .requiredOption('--out <file>', 'where to write the genesis JSON')
    .option('--tsa-anchor <pem>', 'PEM root certificate trusted for RFC 3161 tokens (repeatable)', collect)
    .option('--consensus <key=value>', 'override a consensus parameter (repeatable)', collect)
    .option(
      '--case-sealing <mode>',
      `cases.sealing: required (validators refuse unsealed case records, ADR 015) or optional`,
      DEFAULT_CASE_SEALING,
    )
    .option(
      '--crypto-suite <suite>',
      "the chain's hash and signature algorithms (ADR 014): ed25519-sha256 (default) or sm2-sm3; every\n" +
        'member key must be of it (`jrchain init --crypto-suite`)',
    )
    .option('--created-at <iso>', 'creation time (default: now)')
    .option('--force', 'overwrite an existing output file')
    .option('--json', 'print machine-readable JSON')
    .action(
      (opts: {
        chainId: string;
        member: string[];
        out: string;
        tsaAnchor?: string[];
        consensus?: string[];
        createdAt?: string;
        caseSealing: string;
        cryptoSuite?: string;
        force?: boolean;
        json?: boolean;
      }) => {
        const createdAt = opts.createdAt === undefined ? new Date() : new Date(opts.createdAt);
        if (Number.isNaN(createdAt.getTime())) throw new UsageError('--created-at must be an ISO-8601 time');
        const cryptoSuite = suiteOption(opts.cryptoSuite);
        const caseSealing = opts.caseSealing as CaseSealing;
        if (!CaseSealingModes.includes(caseSealing))
          throw new UsageError(`--case-sealing must be one of: ${CaseSealingModes.join(', ')}`);
        const trustAnchors = (opts.tsaAnchor ?? []).map((f) => {
          try {
            return readFileSync(f, 'utf8');
          } catch (err) {
            throw new CliError(
              CliErrorCode.fileUnreadable,
              `cannot read TSA anchor ${f}: ${(err as Error).message}`,
            );
          }
        });
        const { genesis: g } = assembleGenesis(opts.member.map(readMemberFile), {
          chainId: opts.chainId,
          createdAt,
          consensus: parseConsensusOverrides(opts.consensus ?? []),
          trustAnchors,
          caseSealing,
          // The default suite writes no `cryptoSuite` field: the genesis is what it always was.
          ...(cryptoSuite === 'ed25519-sha256' ? {} : { cryptoSuite }),
        });
        try {
          writeFileSync(opts.out, `${JSON.stringify(genesisToJson(g), null, 2)}\n`, {
            flag: opts.force ? 'w' : 'wx',
          });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
            throw new UsageError(`${opts.out} exists; pass --force to overwrite it`);
          }
          throw err;
        }
        const d = { file: opts.out, ...describeGenesis(g) };
        emit(io, opts.json === true, d, () => describeText(d));
      },
    );
}

function registerVerify(genesis: Command, io: CliIo): void {
  genesis
    .command('verify')
    .description('strictly validate a genesis file and print its chain id and hash (exit 1 if invalid)')
    .argument('<file>', 'genesis JSON file')
    .option('--json', 'print machine-readable JSON')
    .action((file: string, opts: { json?: boolean }) => {
      try {
        const d = { valid: true, ...describeGenesis(loadGenesisFile(file)) };
        emit(io, opts.json === true, d, () => describeText(d));
      } catch (err) {
        if (!(err instanceof JrError) || err.code !== GenesisErrorCode.invalid) throw err;
        const d = { valid: false, code: err.code, error: err.message };
        emit(io, opts.json === true, d, () => `invalid genesis: ${err.message}\n`);
        io.setExit(ExitCode.failed);
      }
    });
}
