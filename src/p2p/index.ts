/** Public surface of the p2p host (docs/p2p.md). */
export {
  type Allowlist,
  allowlistFromGenesis,
  type PeerRole,
  resolveAllowlist,
  type ValidatorPeer,
} from './allowlist.ts';
export { P2PError, P2PErrorCode } from './errors.ts';
export { createP2PHost } from './host.ts';
export type {
  P2PHost,
  P2PHostComponents,
  P2PHostInit,
  PeerEvent,
  PeerEventListener,
  PeerStatus,
  RequestOptions,
  SendResult,
} from './host-api.ts';
export {
  type BackoffLimits,
  DEFAULT_HOST_LIMITS,
  DEFAULT_PROTOCOLS,
  type HostLimits,
  type HostLimitsInit,
  type MessageProtocolConfig,
  type ProtocolConfig,
  ProtocolId,
  type RateLimit,
  type RequestProtocolConfig,
  type ScoringLimits,
} from './limits.ts';
export { type Logger, noopLogger } from './logger.ts';
export {
  DisconnectReason,
  DropReason,
  MemoryMetrics,
  MetricName,
  type MetricsSink,
  noopMetrics,
  RefusalReason,
} from './metrics.ts';
export { type MessageHandler, type RequestHandler, type Verdict, Verdicts } from './verdict.ts';
