/**
 * One directed link of a test alliance: a TCP proxy on 127.0.0.1 that stands for "validator A dialling validator
 * B". A's config names the proxy as B's address (`p2p.peers`), the proxy forwards to B's real listen port. A
 * connection A dialled carries both directions: `forward` is dialler → listener, `backward` the replies.
 *
 * Faults, on real sockets:
 * - blackhole: a silent partition. Existing connections stop moving bytes (the sockets are paused, so TCP flow
 *   control stalls the sender; nothing is lost or reordered), new connections are held unanswered. Healing
 *   releases everything; libp2p notices nothing but delay unless its liveness or dial timeouts fired meanwhile.
 * - down: the link went away. Every connection is reset, new ones are refused, as with a dead route.
 * - one direction blocked: bytes one way stall while the other way flows (100% one-way loss; on TCP a
 *   connection cannot survive that, so libp2p's timeouts take it down, and new handshakes stall).
 * - delay: every chunk is delivered `delayMs` after it arrived, in order.
 * The target may be unknown (the listener is down or not started): connections are then refused.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type LinkState = 'up' | 'blackhole' | 'down';
export type Direction = 'forward' | 'backward';

/** Queued bytes above which a pump stops reading its source (delay holds chunks in memory). */
const HIGH_WATER = 8 * 1024 * 1024;

/** Moves bytes from one socket to another, honouring a block and an added delay. */
class Pump {
  readonly #src: Socket;
  readonly #dst: Socket;
  readonly #queue: { due: number; chunk: Buffer }[] = [];
  #queuedBytes = 0;
  #blocked = false;
  #delayMs = 0;
  #waitingDrain = false;
  #srcEnded = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(src: Socket, dst: Socket, blocked: boolean, delayMs: number) {
    this.#src = src;
    this.#dst = dst;
    this.#delayMs = delayMs;
    src.on('data', (chunk: Buffer) => {
      this.#queue.push({ due: Date.now() + this.#delayMs, chunk });
      this.#queuedBytes += chunk.length;
      this.#flush();
    });
    // The source finished (FIN, or destroyed): end the destination once the queue is out. A blocked pump
    // holds the close back too, so a partition never leaks a connection's end.
    const ended = () => {
      this.#srcEnded = true;
      this.#flush();
    };
    src.on('end', ended);
    src.on('close', ended);
    dst.on('drain', () => {
      this.#waitingDrain = false;
      this.#flush();
    });
    if (blocked) this.block();
    else this.#flush(); // accepted sockets start paused
  }

  block(): void {
    this.#blocked = true;
    this.#src.pause();
  }

  unblock(): void {
    this.#blocked = false;
    this.#flush();
  }

  setDelay(ms: number): void {
    this.#delayMs = ms;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#queue.length = 0;
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#blocked || this.#dst.destroyed) return;
    const now = Date.now();
    while (this.#queue.length > 0 && !this.#waitingDrain) {
      const head = this.#queue[0]!;
      if (head.due > now) {
        this.#timer = setTimeout(() => this.#flush(), head.due - now);
        break;
      }
      this.#queue.shift();
      this.#queuedBytes -= head.chunk.length;
      if (!this.#dst.write(head.chunk)) this.#waitingDrain = true;
    }
    // Read on while the destination keeps up and the delay queue is bounded.
    if (!this.#waitingDrain && this.#queuedBytes < HIGH_WATER) this.#src.resume();
    else this.#src.pause();
    if (this.#srcEnded && this.#queue.length === 0 && !this.#waitingDrain) this.#dst.end();
  }
}

class ProxiedConnection {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly forward: Pump;
  readonly backward: Pump;

  constructor(client: Socket, upstream: Socket, blocked: Record<Direction, boolean>, delayMs: number) {
    this.client = client;
    this.upstream = upstream;
    this.forward = new Pump(client, upstream, blocked.forward, delayMs);
    this.backward = new Pump(upstream, client, blocked.backward, delayMs);
  }

  pump(d: Direction): Pump {
    return d === 'forward' ? this.forward : this.backward;
  }

  destroy(): void {
    this.forward.stop();
    this.backward.stop();
    this.client.destroy();
    this.upstream.destroy();
  }
}

export class LinkProxy {
  readonly name: string;
  readonly #server: Server;
  readonly #conns = new Set<ProxiedConnection>();
  readonly #held = new Set<Socket>();
  #target: number | undefined;
  #state: LinkState = 'up';
  readonly #blocked: Record<Direction, boolean> = { forward: false, backward: false };
  #delayMs = 0;
  /** Connections forwarded, and refused (target down or link down), since the start. */
  readonly stats = { forwarded: 0, refused: 0 };

  private constructor(name: string) {
    this.name = name;
    this.#server = createServer({ pauseOnConnect: true }, (client) => this.#accept(client));
  }

  static async start(name: string): Promise<LinkProxy> {
    const p = new LinkProxy(name);
    await new Promise<void>((resolve, reject) => {
      p.#server.once('error', reject);
      p.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return p;
  }

  get port(): number {
    const a = this.#server.address();
    if (a === null || typeof a === 'string') throw new Error(`${this.name}: proxy not listening`);
    return a.port;
  }

  get state(): LinkState {
    return this.#state;
  }

  /** The listener's real port; undefined while it is down (connections are refused). */
  setTarget(port: number | undefined): void {
    this.#target = port;
    if (port === undefined) for (const c of this.#conns) c.destroy();
  }

  /** Silent partition: nothing moves either way, new connections hang. */
  blackhole(): void {
    this.#state = 'blackhole';
    for (const c of this.#conns) {
      c.forward.block();
      c.backward.block();
    }
  }

  /** The link is gone: connections reset, new ones refused. */
  down(): void {
    this.#state = 'down';
    for (const c of this.#conns) c.destroy();
    for (const s of this.#held) s.destroy();
  }

  /** Back to normal: stalled bytes and held connections move again (one-way blocks stay). */
  up(): void {
    this.#state = 'up';
    for (const c of this.#conns) {
      if (!this.#blocked.forward) c.forward.unblock();
      if (!this.#blocked.backward) c.backward.unblock();
    }
    const held = [...this.#held];
    this.#held.clear();
    for (const s of held) this.#forward(s);
  }

  /** Stalls (or releases) one direction of every connection on this link, now and for new ones. */
  block(d: Direction, blocked = true): void {
    this.#blocked[d] = blocked;
    if (this.#state !== 'up') return;
    for (const c of this.#conns) {
      if (blocked) c.pump(d).block();
      else c.pump(d).unblock();
    }
  }

  setDelay(ms: number): void {
    this.#delayMs = ms;
    for (const c of this.#conns) {
      c.forward.setDelay(ms);
      c.backward.setDelay(ms);
    }
  }

  /** Clears every fault. */
  reset(): void {
    this.block('forward', false);
    this.block('backward', false);
    this.setDelay(0);
    this.up();
  }

  async close(): Promise<void> {
    for (const c of this.#conns) c.destroy();
    for (const s of this.#held) s.destroy();
    this.#held.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    client.on('error', () => client.destroy());
    if (this.#state === 'down') {
      this.#refuse(client);
      return;
    }
    if (this.#state === 'blackhole') {
      this.#held.add(client);
      client.once('close', () => this.#held.delete(client));
      return;
    }
    this.#forward(client);
  }

  #refuse(client: Socket): void {
    this.stats.refused++;
    client.destroy();
  }

  #forward(client: Socket): void {
    if (this.#target === undefined || client.destroyed) {
      this.#refuse(client);
      return;
    }
    this.stats.forwarded++;
    const upstream = createConnection({ host: '127.0.0.1', port: this.#target });
    const c = new ProxiedConnection(client, upstream, this.#blocked, this.#delayMs);
    this.#conns.add(c);
    upstream.on('error', () => c.destroy());
    client.on('error', () => c.destroy());
    let closed = 0;
    const onClose = () => {
      // Half-closes travel through the pumps; once both sockets are gone the connection is done.
      if (++closed === 2) this.#conns.delete(c);
    };
    client.once('close', onClose);
    upstream.once('close', onClose);
  }
}
