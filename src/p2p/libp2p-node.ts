/**
 * The js-libp2p 3 node under the host: TCP + Noise + Yamux and nothing else, the allowlist gater, connection
 * limits, the liveness ping monitor, and one handler per configured protocol. Built stopped; the host starts it.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import type { Connection, Libp2p, Stream } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import { type AdmissionPolicy, createGater } from './gater.ts';
import type { HostLimits, ProtocolConfig } from './limits.ts';
import type { Logger } from './logger.ts';
import type { MetricsSink } from './metrics.ts';

const MiB = 1024 * 1024;

export interface Libp2pNodeInit {
  readonly seed: Uint8Array;
  readonly listen: readonly string[];
  readonly limits: HostLimits;
  readonly protocols: Iterable<ProtocolConfig>;
  readonly admission: AdmissionPolicy;
  readonly logger: Logger;
  readonly metrics: MetricsSink;
  onInboundStream(protocol: ProtocolConfig, stream: Stream, connection: Connection): void;
  onPeerConnect(peerId: string): void;
  onPeerDisconnect(peerId: string): void;
}

/** Creates the libp2p node (not started) with every protocol handler and peer event listener attached. */
export async function createLibp2pNode(init: Libp2pNodeInit): Promise<Libp2p> {
  const privateKey = await generateKeyPairFromSeed('Ed25519', init.seed);
  const l = init.limits;
  const node = await createLibp2p({
    privateKey,
    start: false,
    addresses: { listen: [...init.listen] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [
      yamux({
        maxInboundStreams: l.streamsPerConnection,
        maxOutboundStreams: l.streamsPerConnection,
        streamOptions: {
          maxStreamWindowSize: l.streamWindowBytes,
          // A paused stream buffers at most one window; the margin covers frames in flight at pause time.
          maxReadBufferLength: l.streamWindowBytes + MiB,
        },
      }),
    ],
    connectionGater: createGater(init.admission, init.logger, init.metrics),
    connectionManager: {
      maxConnections: l.maxConnections,
      dialTimeout: l.dialTimeoutMs,
      inboundConnectionThreshold: l.inboundConnectionsPerSecondPerIp,
      // Our dialer owns reconnection; libp2p's own retry queue only serves KEEP_ALIVE-tagged peers.
      reconnectRetries: 0,
    },
    // Liveness: libp2p pings each connection and drops it when a ping times out, so a peer that vanished
    // without a FIN (power loss, SIGSTOP) is noticed and redialled. We register no ping handler: the
    // remote's "protocol not supported" answer proves it is alive, which is all the monitor needs.
    connectionMonitor: {
      enabled: true,
      pingInterval: l.livenessIntervalMs,
      pingTimeout: { minTimeout: l.livenessTimeoutMs },
      protocolPrefix: 'jrchain',
    },
  });
  for (const p of init.protocols) {
    // libp2p's per-connection stream caps are a backstop. For requests they sit above our own per-peer
    // cap, so an excess request reaches us and is refused and counted rather than silently reset.
    await node.handle(p.id, (stream, connection) => init.onInboundStream(p, stream, connection), {
      maxInboundStreams: p.kind === 'message' ? l.messageStreamsPerConnection : 2 * p.maxConcurrentInbound,
      maxOutboundStreams: p.kind === 'message' ? l.messageStreamsPerConnection : p.maxConcurrentOutbound,
    });
  }
  node.addEventListener('peer:connect', (evt) => init.onPeerConnect(evt.detail.toString()));
  node.addEventListener('peer:disconnect', (evt) => init.onPeerDisconnect(evt.detail.toString()));
  return node;
}
