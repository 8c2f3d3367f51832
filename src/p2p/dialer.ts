/**
 * Keeps us connected to every allowlisted validator: dials each at its configured addresses and, whenever
 * it is not connected, retries with capped exponential backoff and jitter. Both ends of a pair dial, so a
 * restarted peer comes back as soon as either side reaches the other (duplicate connections are harmless).
 * Backoff resets only after a connection has stayed up for `stableAfterMs`, so a peer that accepts and then
 * drops us (e.g. its gater refuses us) does not get redialled at the base rate forever.
 */
import type { Clock, Random } from '../core/clock.ts';
import type { BackoffLimits } from './limits.ts';
import type { Logger } from './logger.ts';
import { MetricName, type MetricsSink } from './metrics.ts';

/** Delay before retry number `attempt` (0-based): "equal jitter", half fixed and half random. */
export function backoffDelay(attempt: number, limits: BackoffLimits, random: Random): number {
  const ceiling = Math.min(limits.capMs, limits.baseMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + (random() * ceiling) / 2;
}

export interface DialerDeps {
  /** Dials the peer at these addresses (each ending in /p2p/<peerId>); rejects on failure. */
  dial(peerId: string, addrs: readonly string[], signal: AbortSignal): Promise<void>;
  isConnected(peerId: string): boolean;
  bannedUntil(peerId: string): number | undefined;
  readonly backoff: BackoffLimits;
  readonly dialTimeoutMs: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly metrics: MetricsSink;
}

interface Target {
  addrs: readonly string[];
  /** Failed attempts since the last stable connection. */
  attempt: number;
  timer: NodeJS.Timeout | undefined;
  /** When the next dial is due (for status), or undefined when none is scheduled. */
  nextDialAt: number | undefined;
  dialing: AbortController | undefined;
  connectedAt: number | undefined;
}

export interface DialStatus {
  readonly addrs: readonly string[];
  readonly attempt: number;
  readonly nextDialAt: number | undefined;
}

export class Dialer {
  private readonly deps: DialerDeps;
  private readonly targets = new Map<string, Target>();
  private running = false;

  constructor(deps: DialerDeps) {
    this.deps = deps;
  }

  start(): void {
    this.running = true;
    for (const [peerId, t] of this.targets) this.schedule(peerId, t, 0);
  }

  stop(): void {
    this.running = false;
    for (const t of this.targets.values()) this.cancel(t);
  }

  /** Replaces the set of peers to keep dialled. New peers are dialled at once; removed ones are dropped. */
  setTargets(addrsByPeer: ReadonlyMap<string, readonly string[]>): void {
    for (const [peerId, t] of this.targets) {
      if (!addrsByPeer.has(peerId)) {
        this.cancel(t);
        this.targets.delete(peerId);
      }
    }
    for (const [peerId, addrs] of addrsByPeer) {
      const t = this.targets.get(peerId);
      if (t === undefined) {
        const fresh: Target = {
          addrs,
          attempt: 0,
          timer: undefined,
          nextDialAt: undefined,
          dialing: undefined,
          connectedAt: undefined,
        };
        this.targets.set(peerId, fresh);
        if (this.running) this.schedule(peerId, fresh, 0);
      } else if (!sameAddrs(t.addrs, addrs)) {
        this.updateAddrs(peerId, addrs);
      }
    }
  }

  /** New addresses for a peer (it moved). If it is not connected, the old backoff is dropped and we dial now. */
  updateAddrs(peerId: string, addrs: readonly string[]): boolean {
    const t = this.targets.get(peerId);
    if (t === undefined) return false;
    t.addrs = addrs;
    if (this.running && !this.deps.isConnected(peerId)) {
      t.attempt = 0;
      this.cancel(t);
      this.schedule(peerId, t, 0);
    }
    return true;
  }

  onConnected(peerId: string): void {
    const t = this.targets.get(peerId);
    if (t === undefined) return;
    t.connectedAt = this.deps.clock.now();
    if (t.timer !== undefined) clearTimeout(t.timer);
    t.timer = undefined;
    t.nextDialAt = undefined;
  }

  onDisconnected(peerId: string): void {
    const t = this.targets.get(peerId);
    if (t === undefined) return;
    if (
      t.connectedAt !== undefined &&
      this.deps.clock.now() - t.connectedAt >= this.deps.backoff.stableAfterMs
    )
      t.attempt = 0;
    t.connectedAt = undefined;
    if (this.running) this.retryLater(peerId, t);
  }

  status(peerId: string): DialStatus | undefined {
    const t = this.targets.get(peerId);
    return t === undefined ? undefined : { addrs: t.addrs, attempt: t.attempt, nextDialAt: t.nextDialAt };
  }

  private retryLater(peerId: string, t: Target): void {
    const delay = backoffDelay(t.attempt, this.deps.backoff, this.deps.random);
    t.attempt++;
    this.schedule(peerId, t, delay);
  }

  private schedule(peerId: string, t: Target, delayMs: number): void {
    if (t.timer !== undefined) clearTimeout(t.timer);
    t.nextDialAt = this.deps.clock.now() + delayMs;
    t.timer = setTimeout(() => {
      t.timer = undefined;
      t.nextDialAt = undefined;
      void this.dial(peerId, t);
    }, delayMs);
  }

  private async dial(peerId: string, t: Target): Promise<void> {
    if (!this.running || t.dialing !== undefined || this.targets.get(peerId) !== t) return;
    if (this.deps.isConnected(peerId)) return;
    const until = this.deps.bannedUntil(peerId);
    if (until !== undefined) {
      // Our gater would refuse the connection anyway; come back when the ban ends.
      this.schedule(peerId, t, until - this.deps.clock.now() + this.deps.random() * this.deps.backoff.baseMs);
      return;
    }
    if (t.addrs.length === 0) return; // nothing to dial; the peer may still dial us
    const controller = new AbortController();
    t.dialing = controller;
    const timeout = AbortSignal.timeout(this.deps.dialTimeoutMs);
    try {
      await this.deps.dial(peerId, t.addrs, AbortSignal.any([controller.signal, timeout]));
      this.deps.metrics.increment(MetricName.dials, { result: 'ok' });
    } catch (err) {
      this.deps.metrics.increment(MetricName.dials, { result: 'failed' });
      this.deps.logger.debug({ peer: peerId, attempt: t.attempt, err: String(err) }, 'p2p: dial failed');
    } finally {
      t.dialing = undefined;
    }
    // Connected now, or the connection already dropped (then onDisconnected has scheduled a retry, or
    // the dial failed and we schedule one here).
    if (
      this.running &&
      this.targets.get(peerId) === t &&
      !this.deps.isConnected(peerId) &&
      t.timer === undefined
    )
      this.retryLater(peerId, t);
  }

  private cancel(t: Target): void {
    if (t.timer !== undefined) clearTimeout(t.timer);
    t.timer = undefined;
    t.nextDialAt = undefined;
    t.dialing?.abort(new Error('dialer stopped'));
  }
}

function sameAddrs(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
