/**
 * Every error-code enum with its exit-code table, as declared beside the enum. The CLI maps an error to its
 * exit code by looking its code up here; docs/exit-codes.md lists them, and a test checks that every code of
 * every enum in src/ has one.
 */

import { AccessErrorCode, AccessErrorExit } from '../api/access.ts';
import { AuthErrorCode, AuthErrorExit } from '../api/auth.ts';
import { ConsensusErrorCode, ConsensusErrorExit } from '../consensus/errors.ts';
import { CertErrorCode, CertErrorExit } from '../core/block.ts';
import { SealErrorCode, SealErrorExit } from '../core/case-seal.ts';
import { CodecErrorCode, CodecErrorExit } from '../core/codec.ts';
import { CoreErrorCode, CoreErrorExit, ExitCode, type ExitCodeTable, type JrError } from '../core/errors.ts';
import { GenesisErrorCode, GenesisErrorExit } from '../core/genesis.ts';
import { KeyErrorCode, KeyErrorExit } from '../core/keys.ts';
import { MemberErrorCode, MemberErrorExit } from '../core/member.ts';
import { SuiteErrorCode, SuiteErrorExit } from '../core/sm/errors.ts';
import { BenchErrorCode, BenchErrorExit } from '../dev/bench/cluster.ts';
import { LedgerErrorCode, LedgerErrorExit, TxErrorCode, TxErrorExit } from '../ledger/errors.ts';
import { SyncErrorCode, SyncErrorExit } from '../node/net/errors.ts';
import { ValidatorErrorCode, ValidatorErrorExit } from '../node/validator.ts';
import { P2PErrorCode, P2PErrorExit } from '../p2p/errors.ts';
import {
  ReceiptErrorCode,
  ReceiptErrorExit,
  ReceiptFailureCode,
  ReceiptFailureExit,
} from '../receipt/errors.ts';
import { TimestampErrorCode, TimestampErrorExit } from '../timestamp/errors.ts';
import { ApiClientError, ApiClientErrorCode, ApiClientErrorExit } from './client.ts';
import { CliErrorCode, CliErrorExit } from './errors.ts';

export interface ErrorCodeEnum {
  /** The enum's name in src/, e.g. `TxErrorCode`. */
  name: string;
  codes: Readonly<Record<string, string>>;
  exits: ExitCodeTable;
}

const entry = <C extends string>(
  name: string,
  codes: Readonly<Record<string, C>>,
  exits: ExitCodeTable<C>,
): ErrorCodeEnum => ({ name, codes, exits });

export const ERROR_CODE_ENUMS: readonly ErrorCodeEnum[] = [
  entry('CoreErrorCode', CoreErrorCode, CoreErrorExit),
  entry('CodecErrorCode', CodecErrorCode, CodecErrorExit),
  entry('CertErrorCode', CertErrorCode, CertErrorExit),
  entry('GenesisErrorCode', GenesisErrorCode, GenesisErrorExit),
  entry('KeyErrorCode', KeyErrorCode, KeyErrorExit),
  entry('MemberErrorCode', MemberErrorCode, MemberErrorExit),
  entry('SealErrorCode', SealErrorCode, SealErrorExit),
  entry('SuiteErrorCode', SuiteErrorCode, SuiteErrorExit),
  entry('TxErrorCode', TxErrorCode, TxErrorExit),
  entry('LedgerErrorCode', LedgerErrorCode, LedgerErrorExit),
  entry('ConsensusErrorCode', ConsensusErrorCode, ConsensusErrorExit),
  entry('P2PErrorCode', P2PErrorCode, P2PErrorExit),
  entry('SyncErrorCode', SyncErrorCode, SyncErrorExit),
  entry('ValidatorErrorCode', ValidatorErrorCode, ValidatorErrorExit),
  entry('TimestampErrorCode', TimestampErrorCode, TimestampErrorExit),
  entry('ReceiptErrorCode', ReceiptErrorCode, ReceiptErrorExit),
  entry('ReceiptFailureCode', ReceiptFailureCode, ReceiptFailureExit),
  entry('AuthErrorCode', AuthErrorCode, AuthErrorExit),
  entry('AccessErrorCode', AccessErrorCode, AccessErrorExit),
  entry('ApiClientErrorCode', ApiClientErrorCode, ApiClientErrorExit),
  entry('CliErrorCode', CliErrorCode, CliErrorExit),
  entry('BenchErrorCode', BenchErrorCode, BenchErrorExit),
];

const EXIT_BY_CODE: ReadonlyMap<string, ExitCode> = new Map(
  ERROR_CODE_ENUMS.flatMap((e) => Object.entries(e.exits)),
);

/**
 * The exit code for an error: its code's entry in the tables. A code in no table is one a node sent that
 * this CLI does not know: exit 4 when the node failed (HTTP 5xx), else 1.
 */
export function exitCodeFor(err: JrError): ExitCode {
  const known = EXIT_BY_CODE.get(err.code);
  if (known !== undefined) return known;
  if (err instanceof ApiClientError && err.status >= 500) return ExitCode.unavailable;
  return ExitCode.failed;
}

/** The exit codes, one line each, for `jrchain --help`. */
export const EXIT_CODES_HELP = [
  'Exit codes (docs/exit-codes.md):',
  '  0  ok: done, valid, proven',
  '  1  failed: the answer is no (invalid, not proven, rejected)',
  '  2  bad flags or arguments',
  '  3  an input file that cannot be read or parsed',
  '  4  a node or TSA could not be reached, failed or refused',
].join('\n');
