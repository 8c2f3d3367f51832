/**
 * The validator's settings, resolved and checked before any component exists (libp2p style: settings first,
 * components later). Pure: it reads the options and the opened chain, and throws ValidatorError on settings
 * that cannot work together.
 */
import type { Clock } from '../consensus/interfaces.ts';
import type { ReplicaOptions } from '../consensus/types.ts';
import { DEFAULT_REPLICA_OPTIONS } from '../consensus/types.ts';
import { equalBytes } from '../core/bytes.ts';
import { systemClock } from '../core/clock.ts';
import { ExitCode, exitCodes, JrError } from '../core/errors.ts';
import { type Genesis, genesisHash } from '../core/genesis.ts';
import type { KeyPair } from '../core/keys.ts';
import type { ConsensusParams } from '../core/params.ts';
import type { LedgerChain } from '../ledger/ledger-chain.ts';
import type { LedgerStore } from '../ledger/store.ts';
import {
  type Allowlist,
  allowlistFromGenesis,
  DEFAULT_PROTOCOLS,
  type HostLimitsInit,
  type Logger,
  type MessageProtocolConfig,
  type ProtocolConfig,
  ProtocolId,
  type RequestProtocolConfig,
} from '../p2p/index.ts';
import { DEFAULT_MEMPOOL_LIMITS, type MempoolLimits } from './mempool.ts';
import type { NodeMetrics } from './metrics.ts';
import { DEFAULT_STATE_SYNC_LIMITS, type StateSyncLimits } from './net/state-sync-deps.ts';
import { DEFAULT_TX_RELAY_LIMITS, type TxRelayLimits } from './net/tx-relay.ts';

/** Node limits and tuning; every field is optional (defaults in docs/limits.md). */
export interface ValidatorLimits {
  /** p2p host limits (rate limits, scoring, backoff, stall timeout...). */
  readonly host?: HostLimitsInit;
  /** p2p protocols (frame, queue and request limits); DEFAULT_PROTOCOLS when absent. */
  readonly protocols?: readonly ProtocolConfig[];
  readonly mempool?: Partial<MempoolLimits>;
  readonly txRelay?: Partial<TxRelayLimits>;
  readonly sync?: Partial<StateSyncLimits>;
  /** Consensus core tuning: catch-up delay, retry interval, pending tx bound. */
  readonly consensus?: Partial<ReplicaOptions>;
  /** How often expired txs leave the mempool (default 1 s). */
  readonly sweepIntervalMs?: number;
}

export interface ValidatorServiceOptions {
  readonly genesis: Genesis;
  /** This node's institution; a key in the set in force must be that institution's validator key. */
  readonly institution: string;
  /** The validator key (src/core/keys.ts); also the libp2p identity. */
  readonly key: KeyPair;
  /** Opened by the caller (the Node), and closed by it after stop(). */
  readonly store: LedgerStore;
  readonly chain: LedgerChain;
  /** libp2p listen multiaddrs (port 0 allowed: see p2pAddrs()). */
  readonly listen: readonly string[];
  /** Dial address overrides by peer id (validators whose genesis addresses are out of date, or added later). */
  readonly peerAddrs?: Readonly<Record<string, readonly string[]>>;
  /** Peer ids of observers allowed to connect (they may sync and relay txs, not vote). */
  readonly observers?: readonly string[];
  /** pino-compatible. */
  readonly logger: Logger;
  readonly metrics: NodeMetrics;
  readonly clock?: Clock;
  readonly limits?: ValidatorLimits;
}

export const ValidatorErrorCode = {
  /** The key is another institution's validator key. */
  keyMismatch: 'VALIDATOR_KEY_MISMATCH',
  /** Settings that cannot work together (a frame limit below the largest batch, another genesis, ...). */
  config: 'VALIDATOR_CONFIG_INVALID',
  /** start() twice, or after stop(). */
  lifecycle: 'VALIDATOR_LIFECYCLE',
} as const;
export type ValidatorErrorCode = (typeof ValidatorErrorCode)[keyof typeof ValidatorErrorCode];
export const ValidatorErrorExit = exitCodes(ValidatorErrorCode, {
  keyMismatch: ExitCode.failed,
  config: ExitCode.failed,
  lifecycle: ExitCode.failed,
});

export class ValidatorError extends JrError {
  declare readonly code: ValidatorErrorCode;
  constructor(code: ValidatorErrorCode, message: string) {
    super(code, message);
  }
}

/** Everything the component factory needs, resolved from the options with the defaults filled in. */
export interface ValidatorSettings {
  readonly options: ValidatorServiceOptions;
  readonly genesisHash: Uint8Array;
  /** This key's index in the set in force at head + 1; undefined while outside it (ADR 006). */
  readonly self: number | undefined;
  readonly clock: Clock;
  readonly protocols: readonly ProtocolConfig[];
  /** The host's allowlist at start: the genesis validators (with address overrides) and the observers. */
  readonly allowlist: Allowlist;
  readonly replica: ReplicaOptions;
  readonly mempool: MempoolLimits;
  readonly txRelay: TxRelayLimits;
  readonly sync: StateSyncLimits;
  /** The largest sync response this node serves. */
  readonly syncResponseBytes: number;
  readonly sweepIntervalMs: number;
}

const DEFAULT_SWEEP_INTERVAL_MS = 1000;

/**
 * Checks the identity against the chain and the limits against the chain's largest batch. The set in force
 * decides (ADR 006): a key in it must be this institution's; a key outside it (a validator governance has yet
 * to add, or one removed) is allowed and only follows the chain.
 */
export function resolveSettings(o: ValidatorServiceOptions): ValidatorSettings {
  const { genesis, institution, key, chain, limits = {} } = o;
  const gHash = genesisHash(genesis);
  if (!equalBytes(genesisHash(chain.genesis), gHash)) {
    throw new ValidatorError(ValidatorErrorCode.config, 'the chain was opened with another genesis');
  }
  const set = chain.validatorSetAt(chain.head().height + 1);
  const self = set.validators.findIndex((v) => equalBytes(v.publicKey, key.publicKey));
  if (self >= 0 && set.validators[self]!.institution !== institution) {
    throw new ValidatorError(
      ValidatorErrorCode.keyMismatch,
      `the key is the validator key of ${set.validators[self]!.institution}, not of ${institution}`,
    );
  }
  const protocols = limits.protocols ?? DEFAULT_PROTOCOLS;
  const replica = { ...DEFAULT_REPLICA_OPTIONS, ...limits.consensus };
  const mempool = { ...DEFAULT_MEMPOOL_LIMITS, ...limits.mempool };
  checkLimits(genesis.consensus, protocols, replica, mempool);
  return {
    options: o,
    genesisHash: gHash,
    self: self >= 0 ? self : undefined,
    clock: o.clock ?? systemClock,
    protocols,
    allowlist: allowlistOf(genesis, o.peerAddrs, o.observers),
    replica,
    mempool,
    txRelay: { ...DEFAULT_TX_RELAY_LIMITS, ...limits.txRelay },
    sync: { ...DEFAULT_STATE_SYNC_LIMITS, ...limits.sync },
    syncResponseBytes: requestProtocol(protocols, ProtocolId.sync).maxResponseBytes,
    sweepIntervalMs: limits.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS,
  };
}

function allowlistOf(
  genesis: Genesis,
  peerAddrs: Readonly<Record<string, readonly string[]>> = {},
  observers: readonly string[] = [],
): Allowlist {
  const list = allowlistFromGenesis(genesis, observers);
  return {
    ...list,
    validators: list.validators.map((v) => ({
      peerId: v.peerId,
      addrs: [...(peerAddrs[v.peerId] ?? v.addrs)],
    })),
  };
}

function requestProtocol(protocols: readonly ProtocolConfig[], id: string): RequestProtocolConfig {
  const p = protocols.find((x) => x.id === id);
  if (p?.kind !== 'request')
    throw new ValidatorError(ValidatorErrorCode.config, `protocol ${id} is not configured`);
  return p;
}

function messageProtocol(protocols: readonly ProtocolConfig[], id: string): MessageProtocolConfig {
  const p = protocols.find((x) => x.id === id);
  if (p?.kind !== 'message')
    throw new ValidatorError(ValidatorErrorCode.config, `protocol ${id} is not configured`);
  return p;
}

/** Headroom over a batch's tx bytes for its framing: per-tx length prefixes, header, certificate, signatures. */
function largestBlockBytes(p: ConsensusParams): number {
  return p.maxBatchBytes + 3 * p.maxBatchTxs + 64 * 1024;
}

/** Refuses limits that could never carry the chain's largest batch, or a mempool the core cannot hold. */
function checkLimits(
  params: ConsensusParams,
  protocols: readonly ProtocolConfig[],
  replica: ReplicaOptions,
  mempool: MempoolLimits,
): void {
  const fail = (msg: string) => new ValidatorError(ValidatorErrorCode.config, msg);
  const need = largestBlockBytes(params);
  const consensus = messageProtocol(protocols, ProtocolId.consensus);
  if (consensus.maxFrameBytes < need) {
    throw fail(`consensus frame limit ${consensus.maxFrameBytes} is below the largest PRE-PREPARE (${need})`);
  }
  messageProtocol(protocols, ProtocolId.tx);
  const sync = requestProtocol(protocols, ProtocolId.sync);
  if (sync.maxResponseBytes < need) {
    throw fail(`sync response limit ${sync.maxResponseBytes} is below the largest block (${need})`);
  }
  if (mempool.maxTxs > replica.maxPendingTxs) {
    throw fail(`mempool maxTxs ${mempool.maxTxs} is above the core's maxPendingTxs ${replica.maxPendingTxs}`);
  }
}
