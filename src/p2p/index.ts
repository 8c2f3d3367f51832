/** Public surface of the p2p host (docs/p2p.md). */
export { type Allowlist, allowlistFromGenesis, type PeerRole, type ValidatorPeer } from './allowlist.ts';
export { P2PError, P2PErrorCode } from './errors.ts';
export {
  createP2PHost,
  type P2PHost,
  type P2PHostComponents,
  type P2PHostInit,
  type PeerEvent,
  type PeerEventListener,
  type PeerStatus,
  type RequestOptions,
  type SendResult,
} from './host.ts';
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
