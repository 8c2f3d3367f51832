/**
 * A test alliance of real processes: N validators started through the real CLI (`jrchain start --home`), each
 * with its own home and LevelDB data directory, the embedded TSA (`jrchain tsa serve`), a genesis with small
 * consensus timeouts, and a proxy on every directed link (links.ts) so the harness controls the network.
 *
 * Homes come from `initHome` (what `jrchain init` runs), the genesis from `assembleGenesis` (what `jrchain
 * genesis create` runs). Each node's config then names, for every other validator, the proxy of the link to it
 * (`p2p.peers`), and the TSA through its own proxy, so a TSA restart on a new port needs no config change.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Genesis, genesisToJson } from '../../../src/core/genesis.ts';
import { assembleGenesis, readMemberFile } from '../../../src/core/member.ts';
import type { ConsensusParams } from '../../../src/core/params.ts';
import type { InstitutionRole } from '../../../src/core/roles.ts';
import type { Child } from '../../../src/dev/processes.ts';
import { CONFIG_FILE, configToJson, parseConfig } from '../../../src/node/config.ts';
import { HOME_FILES, initHome } from '../../../src/node/home.ts';
import { initTsaDir, TsaFiles } from '../../../src/timestamp/index.ts';
import { LinkProxy } from './link-proxy.ts';
import { LinkTable } from './links.ts';
import { ClusterNode, fileSize, isRunning, type NodeStatus, spawnTracked } from './node-process.ts';

/**
 * Consensus parameters of test alliances: small timeouts so faults resolve in seconds, and a short checkpoint
 * interval so checkpoints, watermarks and log pruning happen many times in every scenario. The request timeout
 * stays well above a commit's latency on a loaded two-core machine, so a working primary is not suspected.
 */
export const TEST_CONSENSUS: Partial<ConsensusParams> = Object.freeze({
  maxBatchWaitMs: 20,
  checkpointInterval: 16,
  watermarkWindow: 64,
  requestTimeoutMs: 3000,
  viewChangeTimeoutMs: 2000,
  viewChangeTimeoutMaxMs: 8000,
});

export interface ClusterOptions {
  /** A short name for the temp dir and reports. */
  name: string;
  validators: number;
  consensus?: Partial<ConsensusParams>;
  /** Validators run by a test-only entry script (the Byzantine validator), with its environment. */
  byzantine?: { index: number; script: string; env: (home: string) => NodeJS.ProcessEnv };
  /** Anchoring: time between TSA requests (the product default is 5 s). */
  anchorIntervalMs?: number;
  /**
   * Institutions prepared beyond the genesis (indexes validators, validators+1, ...): homes, keys, links and
   * configs exist, but they are not in the genesis and `start()` leaves them down. Governance adds them.
   */
  joining?: number;
  /**
   * Observers prepared after the joining institutions: in the genesis as institutions without a validator
   * (`jrchain init --observer`), with `observerRole`; every validator lists their peer ids in `p2p.observers`.
   * `start()` leaves them down: `startNode` starts one.
   */
  observers?: number;
  observerRole?: InstitutionRole;
  /** Roles of genesis validators' institutions by index (the rest are banks). */
  roles?: Partial<Record<number, InstitutionRole>>;
}

const institutionId = (i: number) => `bank-${String.fromCharCode(97 + i)}`;

/** The embedded TSA as its own process, reached through a proxy whose port never changes. */
export class TsaProcess {
  readonly dir: string;
  readonly logFile: string;
  readonly proxy: LinkProxy;
  #child: Child | undefined;

  constructor(dir: string, logFile: string, proxy: LinkProxy) {
    this.dir = dir;
    this.logFile = logFile;
    this.proxy = proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.proxy.port}/`;
  }

  get running(): boolean {
    return isRunning(this.#child);
  }

  async start(): Promise<void> {
    const from = fileSize(this.logFile);
    const child = spawnTracked('tsa', ['tsa', 'serve', '--dir', this.dir, '--port', '0'], this.logFile);
    this.#child = child;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const text = readFileSync(this.logFile).subarray(from).toString('utf8');
      const m = /^listening http:\/\/127\.0\.0\.1:(\d+)\//m.exec(text);
      if (m) {
        this.proxy.setTarget(Number(m[1]));
        return;
      }
      if (!isRunning(child) || Date.now() > deadline) throw new Error(`the TSA did not start:\n${text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILL: the TSA is gone until start() runs again. */
  async kill(): Promise<void> {
    this.proxy.setTarget(undefined);
    const c = this.#child;
    if (c === undefined || !isRunning(c)) return;
    c.proc.kill('SIGKILL');
    await c.exited;
  }
}

export class Cluster {
  readonly name: string;
  readonly dir: string;
  readonly genesis: Genesis;
  readonly genesisFile: string;
  readonly nodes: ClusterNode[];
  readonly links: LinkTable;
  readonly tsa: TsaProcess;
  /** Validator indexes that follow the protocol (all but the Byzantine one). */
  readonly honest: number[];
  #destroyed = false;

  private constructor(
    o: ClusterOptions,
    dir: string,
    genesis: Genesis,
    nodes: ClusterNode[],
    links: LinkTable,
    tsa: TsaProcess,
  ) {
    this.name = o.name;
    this.dir = dir;
    this.genesis = genesis;
    this.genesisFile = join(dir, 'genesis.json');
    this.nodes = nodes;
    this.links = links;
    this.tsa = tsa;
    this.honest = nodes.map((n) => n.index).filter((i) => i !== o.byzantine?.index);
    this.genesisValidators = o.validators;
  }

  /** How many validators the genesis has (the first nodes); the others join by governance. */
  readonly genesisValidators: number;

  /** Creates homes, TSA, genesis, proxies and configs; starts nothing. */
  static async create(o: ClusterOptions): Promise<Cluster> {
    const dir = mkdtempSync(join(tmpdir(), `jrchain-cluster-${o.name}-`));
    let links: LinkTable | undefined;
    let tsaProxy: LinkProxy | undefined;
    try {
      const firstObserver = o.validators + (o.joining ?? 0);
      const total = firstObserver + (o.observers ?? 0);
      links = await LinkTable.start(total);
      tsaProxy = await LinkProxy.start('tsa');
      const tsa = new TsaProcess(join(dir, 'tsa'), join(dir, 'tsa.log'), tsaProxy);
      await initTsaDir(tsa.dir, { organization: 'JRChain Cluster Test TSA', now: new Date() });
      const homes = [...Array(total).keys()].map((i) =>
        // Port 0: the node binds free ports and reports them; peers reach it only through the proxies.
        initHome({
          home: join(dir, institutionId(i)),
          institution: institutionId(i),
          p2pPort: 0,
          apiPort: 0,
          ...(i >= firstObserver ? { observer: true, role: o.observerRole ?? 'court' } : {}),
          ...(o.roles?.[i] !== undefined ? { role: o.roles[i] } : {}),
        }),
      );
      const { genesis } = assembleGenesis(
        [...homes.slice(0, o.validators), ...homes.slice(firstObserver)].map((h) =>
          readMemberFile(h.memberFile),
        ),
        {
          chainId: `jrchain-cluster-${o.name}`.slice(0, 64),
          createdAt: new Date(),
          trustAnchors: [readFileSync(join(tsa.dir, TsaFiles.rootCert), 'utf8')],
          consensus: { ...TEST_CONSENSUS, ...o.consensus },
        },
      );
      const genesisJson = `${JSON.stringify(genesisToJson(genesis), null, 2)}\n`;
      writeFileSync(join(dir, 'genesis.json'), genesisJson);
      const nodes = homes.map((h, i) => {
        writeFileSync(join(h.home, 'genesis.json'), genesisJson);
        const config = parseConfig(h.home, JSON.parse(readFileSync(h.configFile, 'utf8')));
        for (const [j, other] of homes.entries()) {
          if (j !== i) config.p2p.peers[other.peerId] = [`/ip4/127.0.0.1/tcp/${links!.link(i, j).port}`];
        }
        if (i < firstObserver) config.p2p.observers = homes.slice(firstObserver).map((x) => x.peerId);
        config.tsa.url = tsa.url;
        if (o.anchorIntervalMs !== undefined) config.tsa.anchorIntervalMs = o.anchorIntervalMs;
        writeFileSync(join(h.home, CONFIG_FILE), `${JSON.stringify(configToJson(config), null, 2)}\n`);
        const byz = o.byzantine?.index === i ? o.byzantine : undefined;
        return new ClusterNode({
          index: i,
          institution: h.institution,
          home: h.home,
          peerId: h.peerId,
          logFile: join(dir, `${h.institution}.log`),
          ...(byz ? { script: byz.script, env: byz.env(h.home) } : {}),
        });
      });
      return new Cluster(o, dir, genesis, nodes, links, tsa);
    } catch (err) {
      await links?.close();
      await tsaProxy?.close();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  get n(): number {
    return this.nodes.length;
  }

  /** The client key file of validator i's institution. */
  clientKey(i: number): string {
    return join(this.nodes[i]!.home, HOME_FILES.clientKey);
  }

  /** Starts the TSA and every genesis validator, and waits until every validator reaches a quorum. */
  async start(): Promise<void> {
    await this.tsa.start();
    const genesisNodes = this.nodes.slice(0, this.genesisValidators);
    await Promise.all(genesisNodes.map((n) => this.startNode(n.index)));
    await this.waitUntil(
      'every validator to be ready',
      async () => {
        const ready = await Promise.all(
          genesisNodes.map((n) =>
            fetch(`${n.apiUrl}/ready`, { signal: AbortSignal.timeout(3000) }).then(
              (r) => r.ok,
              () => false,
            ),
          ),
        );
        return ready.every(Boolean);
      },
      120_000,
    );
  }

  /** Starts (or restarts) validator i and points the links into it at its new port. */
  async startNode(i: number): Promise<void> {
    const port = await this.nodes[i]!.start();
    this.links.setTarget(i, port);
  }

  /** SIGKILLs validator i (its links then refuse connections, as to a dead process). */
  async kill(i: number): Promise<void> {
    this.links.setTarget(i, undefined);
    await this.nodes[i]!.kill();
  }

  /**
   * Validator i left the alliance (governance removed it, ADR 006): it is stopped and no longer counted among
   * the validators the scenario waits for and checks.
   */
  async retire(i: number): Promise<void> {
    await this.stop(i);
    const at = this.honest.indexOf(i);
    if (at >= 0) this.honest.splice(at, 1);
  }

  /** Graceful stop of validator i. */
  async stop(i: number): Promise<void> {
    this.links.setTarget(i, undefined);
    await this.nodes[i]!.stop();
  }

  /** Statuses of the validators that answer (index → status). */
  async statuses(which: readonly number[] = this.honest): Promise<Map<number, NodeStatus>> {
    const out = new Map<number, NodeStatus>();
    await Promise.all(
      which.map(async (i) => {
        const s = await this.nodes[i]!.tryStatus();
        if (s !== undefined) out.set(i, s);
      }),
    );
    return out;
  }

  /** The validator index of the primary most answering honest validators agree on. */
  async primary(): Promise<{ index: number; view: number }> {
    return this.waitUntil('the honest validators to agree on a primary', async () => {
      const votes = new Map<string, number>();
      let view = 0;
      for (const s of (await this.statuses()).values()) {
        if (s.consensus !== 'normal') continue;
        const key = `${s.view}/${s.primary}`;
        votes.set(key, (votes.get(key) ?? 0) + 1);
      }
      for (const [key, count] of votes) {
        if (count * 2 <= this.honest.length) continue;
        const [v, inst] = key.split('/');
        view = Number(v);
        return { index: this.nodes.findIndex((n) => n.institution === inst), view };
      }
      return undefined;
    });
  }

  /** Polls `check` every 200 ms until it returns a value (true counts); throws after `timeoutMs`. */
  async waitUntil<T>(
    what: string,
    check: () => Promise<T | undefined | false>,
    timeoutMs = 90_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await check().catch(() => undefined);
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline)
        throw new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Every validator's process state, status (or why there is none) and log tail, and the links. */
  async diagnostics(lines = 30): Promise<string> {
    const parts = [`cluster ${this.name} in ${this.dir}; links: ${this.links.describe()}`];
    parts.push(`tsa: ${this.tsa.running ? 'running' : 'down'}`);
    for (const n of this.nodes) {
      const state = !n.running ? 'down' : n.paused ? 'paused (SIGSTOP)' : `pid ${n.pid}`;
      const s = n.running && !n.paused ? await n.status(3000).catch((e: Error) => e.message) : undefined;
      parts.push(
        `--- ${n.institution} (validator ${n.index}, ${state}, api ${n.apiUrl}) status:\n` +
          `${typeof s === 'object' ? JSON.stringify(s) : (s ?? '-')}\n--- last ${lines} log lines:\n${n.tail(lines)}`,
      );
    }
    return parts.join('\n');
  }

  /** Kills every process, closes every proxy and removes the directory (also after a failure). */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await Promise.allSettled(this.nodes.map((n) => n.kill()));
    await this.tsa.kill().catch(() => undefined);
    await this.links.close();
    await this.tsa.proxy.close();
    // JRCHAIN_CLUSTER_KEEP=1 keeps homes and logs for a post-mortem (the path is in the failure report).
    if (process.env.JRCHAIN_CLUSTER_KEEP !== '1') rmSync(this.dir, { recursive: true, force: true });
  }
}
