/** Checks host configuration up front, so a bad limit fails at construction rather than under load. */
import { P2PError, P2PErrorCode } from './errors.ts';
import { type HostLimits, largestInboundFrame, MAX_FRAME_LIMIT, type ProtocolConfig } from './limits.ts';

/** Versioned protocol ids: `/jrchain/<name>/<major>.<minor>.<patch>`-like paths. */
const PROTOCOL_ID = /^(\/[a-z0-9][a-z0-9._-]*)+\/\d+\.\d+\.\d+$/;

export function validateProtocols(protocols: readonly ProtocolConfig[]): void {
  if (protocols.length === 0) fail('at least one protocol is required');
  const seen = new Set<string>();
  for (const p of protocols) {
    if (!PROTOCOL_ID.test(p.id)) fail(`protocol id ${JSON.stringify(p.id)} must look like /name/1.0.0`);
    if (seen.has(p.id)) fail(`protocol ${p.id} is configured twice`);
    seen.add(p.id);
    if (p.kind === 'message') {
      frameLimit(p.id, 'maxFrameBytes', p.maxFrameBytes);
      count(p.id, 'maxQueueFrames', p.maxQueueFrames);
      count(p.id, 'maxQueueBytes', p.maxQueueBytes);
      if (p.maxQueueBytes < p.maxFrameBytes)
        fail(`${p.id}: maxQueueBytes must hold at least one largest frame`);
    } else if (p.kind === 'request') {
      frameLimit(p.id, 'maxRequestBytes', p.maxRequestBytes);
      frameLimit(p.id, 'maxResponseBytes', p.maxResponseBytes);
      count(p.id, 'maxConcurrentInbound', p.maxConcurrentInbound);
      count(p.id, 'maxConcurrentOutbound', p.maxConcurrentOutbound);
      count(p.id, 'timeoutMs', p.timeoutMs);
    } else {
      fail(`protocol ${(p as { id: string }).id}: kind must be 'message' or 'request'`);
    }
  }
}

export function validateLimits(limits: HostLimits, protocols: readonly ProtocolConfig[]): void {
  const positive: Array<[string, number]> = [
    ['messageStreamsPerConnection', limits.messageStreamsPerConnection],
    ['streamsPerConnection', limits.streamsPerConnection],
    ['inboundFrames.perSecond', limits.inboundFrames.perSecond],
    ['inboundFrames.burst', limits.inboundFrames.burst],
    ['inboundBytes.perSecond', limits.inboundBytes.perSecond],
    ['inboundBytes.burst', limits.inboundBytes.burst],
    ['scoring.banThreshold', limits.scoring.banThreshold],
    ['scoring.halfLifeMs', limits.scoring.halfLifeMs],
    ['scoring.banDurationMs', limits.scoring.banDurationMs],
    ['backoff.baseMs', limits.backoff.baseMs],
    ['backoff.capMs', limits.backoff.capMs],
    ['stallTimeoutMs', limits.stallTimeoutMs],
    ['writeBatchBytes', limits.writeBatchBytes],
    ['dialTimeoutMs', limits.dialTimeoutMs],
    ['streamOpenTimeoutMs', limits.streamOpenTimeoutMs],
    ['livenessIntervalMs', limits.livenessIntervalMs],
    ['livenessTimeoutMs', limits.livenessTimeoutMs],
    ['maxConnections', limits.maxConnections],
    ['inboundConnectionsPerSecondPerIp', limits.inboundConnectionsPerSecondPerIp],
  ];
  for (const [name, v] of positive) if (!(Number.isFinite(v) && v > 0)) fail(`${name} must be positive`);
  const nonNegative: Array<[string, number]> = [
    ['scoring.oversizePenalty', limits.scoring.oversizePenalty],
    ['scoring.invalidPenalty', limits.scoring.invalidPenalty],
    ['backoff.stableAfterMs', limits.backoff.stableAfterMs],
  ];
  for (const [name, v] of nonNegative) if (!(Number.isFinite(v) && v >= 0)) fail(`${name} must be >= 0`);
  if (limits.backoff.baseMs > limits.backoff.capMs) fail('backoff.baseMs must not exceed backoff.capMs');
  // Yamux refuses windows under its 256 KiB initial window.
  if (limits.streamWindowBytes < 256 * 1024) fail('streamWindowBytes must be at least 256 KiB');
  const largest = largestInboundFrame(protocols);
  if (limits.inboundBytes.burst < largest)
    fail(`inboundBytes.burst (${limits.inboundBytes.burst}) must fit the largest inbound frame (${largest})`);
}

function frameLimit(id: string, name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1 || v > MAX_FRAME_LIMIT)
    fail(`${id}: ${name} must be an integer in 1..${MAX_FRAME_LIMIT}`);
}

function count(id: string, name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) fail(`${id}: ${name} must be a positive integer`);
}

function fail(msg: string): never {
  throw new P2PError(P2PErrorCode.configInvalid, msg);
}
