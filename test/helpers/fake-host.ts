/**
 * A P2PHost double for protocol unit tests: records what is sent and reported, answers requests from per-peer
 * functions, and lets a test deliver inbound frames to the registered handlers. Only what the protocol layers
 * use is implemented; anything else throws.
 */
import {
  type MessageHandler,
  P2PError,
  P2PErrorCode,
  type P2PHost,
  type RequestHandler,
  type Verdict,
} from '../../src/p2p/index.ts';

export type Responder = (request: Uint8Array, signal: AbortSignal) => Uint8Array | Promise<Uint8Array>;

export class FakeHost {
  readonly sent: { to: string; protocol: string; frame: Uint8Array }[] = [];
  readonly broadcasts: { protocol: string; frame: Uint8Array; to: string[] }[] = [];
  readonly reports: { peer: string; protocol: string; verdict: Verdict }[] = [];
  readonly requests: { peer: string; request: Uint8Array }[] = [];
  /** Peers that count as connected, in order. */
  connected: string[] = [];
  /** How each peer answers requests; a missing one fails like an unreachable peer. */
  readonly responders = new Map<string, Responder>();
  readonly messageHandlers = new Map<string, MessageHandler>();
  readonly requestHandlers = new Map<string, RequestHandler>();

  asHost(): P2PHost {
    const unsupported = (): never => {
      throw new Error('not implemented by FakeHost');
    };
    const host: Partial<P2PHost> = {
      peerId: 'fake-self',
      onMessage: (protocol, handler) => this.messageHandlers.set(protocol, handler),
      onRequest: (protocol, handler) => this.requestHandlers.set(protocol, handler),
      send: (to, protocol, frame) => {
        this.sent.push({ to, protocol, frame });
        return 'queued';
      },
      broadcast: (protocol, frame, filter) => {
        const to = this.connected.filter((p) => filter === undefined || filter(p));
        this.broadcasts.push({ protocol, frame, to });
        return new Map(to.map((p) => [p, 'queued' as const]));
      },
      request: async (peer, _protocol, request, options) => {
        this.requests.push({ peer, request });
        options?.signal?.throwIfAborted();
        const respond = this.responders.get(peer);
        if (respond === undefined) throw new P2PError(P2PErrorCode.notConnected, `no responder for ${peer}`);
        return respond(request, options?.signal ?? new AbortController().signal);
      },
      report: (peer, protocol, verdict) => {
        this.reports.push({ peer, protocol, verdict });
      },
      connectedPeers: () => [...this.connected],
      start: unsupported,
      stop: unsupported,
    };
    return host as P2PHost;
  }

  /** Delivers an inbound frame from `peer` to the handler of `protocol`; returns its verdict. */
  async deliver(protocol: string, peer: string, frame: Uint8Array): Promise<Verdict | undefined> {
    const handler = this.messageHandlers.get(protocol);
    if (handler === undefined) throw new Error(`no handler for ${protocol}`);
    return (await handler(peer, frame)) ?? undefined;
  }
}
