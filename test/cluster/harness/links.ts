/**
 * Every directed link of an alliance of n validators, each through its own LinkProxy, and the network faults
 * of the cluster scenarios in terms of validators: partitions, isolation, one-way loss, delay and flapping.
 * `link(a, b)` is the proxy a dials b through; a fault between a and b touches both a→b and b→a links.
 */
import { type Direction, LinkProxy } from './link-proxy.ts';

export class LinkTable {
  readonly n: number;
  readonly #links: Map<string, LinkProxy>;
  readonly #flappers = new Set<Flapper>();

  private constructor(n: number, links: Map<string, LinkProxy>) {
    this.n = n;
    this.#links = links;
  }

  static async start(n: number): Promise<LinkTable> {
    const links = new Map<string, LinkProxy>();
    try {
      for (let a = 0; a < n; a++)
        for (let b = 0; b < n; b++)
          if (a !== b) links.set(`${a}>${b}`, await LinkProxy.start(`link ${a}->${b}`));
    } catch (err) {
      await Promise.all([...links.values()].map((l) => l.close()));
      throw err;
    }
    return new LinkTable(n, links);
  }

  /** The proxy validator `from` dials validator `to` through. */
  link(from: number, to: number): LinkProxy {
    const l = this.#links.get(`${from}>${to}`);
    if (l === undefined) throw new Error(`no link ${from}->${to}`);
    return l;
  }

  /** Both directed links between a and b. */
  pair(a: number, b: number): LinkProxy[] {
    return [this.link(a, b), this.link(b, a)];
  }

  /** Points every link into validator `to` at its real port (undefined: it is down). */
  setTarget(to: number, port: number | undefined): void {
    for (let a = 0; a < this.n; a++) if (a !== to) this.link(a, to).setTarget(port);
  }

  /** Silent partition between the groups (validators in no group keep all their links). */
  partition(groups: readonly (readonly number[])[]): void {
    for (const [i, g] of groups.entries())
      for (const h of groups.slice(i + 1))
        for (const a of g) for (const b of h) for (const l of this.pair(a, b)) l.blackhole();
  }

  /** Cuts validator `v` off from every other validator. */
  isolate(v: number): void {
    this.partition([[v], this.#others(v)]);
  }

  /** 100% loss from `from` to `to` only: bytes that way stall, the other way flows. */
  oneWay(from: number, to: number): void {
    // Bytes from→to travel forward on from's own connections and backward on the ones `to` dialled.
    this.link(from, to).block('forward');
    this.link(to, from).block('backward');
  }

  /** Adds `ms` of latency to every link (or to the links between the given pairs). */
  delay(ms: number, pairs: readonly (readonly [number, number])[] = this.#allPairs()): void {
    for (const [a, b] of pairs) for (const l of this.pair(a, b)) l.setDelay(ms);
  }

  /**
   * Flaps the links between the given pairs: each goes down (connections reset, dials refused) and back up
   * on its own random schedule, until stopped. Returns the flapper (its counters show the faults injected).
   */
  flap(pairs: readonly (readonly [number, number])[], opts: FlapOptions): Flapper {
    const f = new Flapper(
      pairs.map(([a, b]) => this.pair(a, b)),
      opts,
    );
    this.#flappers.add(f);
    return f;
  }

  /** Stops flapping and clears every fault on every link. */
  healAll(): void {
    for (const f of this.#flappers) f.stop();
    this.#flappers.clear();
    for (const l of this.#links.values()) l.reset();
  }

  /** Human-readable fault state, for failure reports. */
  describe(): string {
    const faulty = [...this.#links.values()]
      .filter((l) => l.state !== 'up')
      .map((l) => `${l.name}: ${l.state}`);
    return faulty.length === 0 ? 'all links up' : faulty.join(', ');
  }

  async close(): Promise<void> {
    for (const f of this.#flappers) f.stop();
    await Promise.all([...this.#links.values()].map((l) => l.close()));
  }

  allPairs(): [number, number][] {
    return this.#allPairs();
  }

  #allPairs(): [number, number][] {
    const out: [number, number][] = [];
    for (let a = 0; a < this.n; a++) for (let b = a + 1; b < this.n; b++) out.push([a, b]);
    return out;
  }

  #others(v: number): number[] {
    return [...Array(this.n).keys()].filter((i) => i !== v);
  }
}

export interface FlapOptions {
  /** How long a link stays up, then down: uniform in [min, max] ms, drawn for every period. */
  upMs: readonly [number, number];
  downMs: readonly [number, number];
  /** Uniform in [0, 1); Math.random by default. */
  random?: () => number;
}

/** Toggles groups of links down and up on independent random schedules. */
export class Flapper {
  /** Down periods started so far. */
  downs = 0;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #stopped = false;
  readonly #opts: FlapOptions;
  readonly #random: () => number;

  constructor(groups: LinkProxy[][], opts: FlapOptions) {
    this.#opts = opts;
    this.#random = opts.random ?? Math.random;
    for (const g of groups) this.#schedule(g, true);
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #schedule(group: LinkProxy[], isUp: boolean): void {
    if (this.#stopped) return;
    const [min, max] = isUp ? this.#opts.upMs : this.#opts.downMs;
    const t = setTimeout(
      () => {
        this.#timers.delete(t);
        if (this.#stopped) return;
        if (isUp) {
          this.downs++;
          for (const l of group) l.down();
        } else for (const l of group) l.up();
        this.#schedule(group, !isUp);
      },
      min + this.#random() * (max - min),
    );
    this.#timers.add(t);
  }
}

export type { Direction };
