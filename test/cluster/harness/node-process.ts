/**
 * Process control for one validator of a test alliance: `jrchain start --home` as its own OS process (or a
 * test-only entry that wraps it), with SIGKILL, SIGSTOP/SIGCONT, graceful stop, data-dir wipe and restart.
 * Nodes listen on port 0 (p2p and API), so a restart can never collide with a port taken meanwhile; the node
 * reports the ports it bound in its log, and the harness re-points the links into it.
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Child, logTail, spawnJrchain, stopChild } from '../../../src/dev/processes.ts';

/** Every child a harness started, killed when the test process exits however it exits. */
const live = new Set<Child>();
process.once('exit', () => {
  for (const c of live) {
    try {
      c.proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Spawns a jrchain process that is killed with the test process if nothing else stops it. */
export function spawnTracked(
  name: string,
  args: string[],
  logFile: string,
  env: NodeJS.ProcessEnv = {},
  script?: string,
): Child {
  const c = spawnJrchain(name, args, logFile, env, script);
  live.add(c);
  c.exited.then(() => live.delete(c));
  return c;
}

export function isRunning(c: Child | undefined): boolean {
  return c !== undefined && c.proc.exitCode === null && c.proc.signalCode === null;
}

/** Polls `check` until it returns a value; fails after the deadline, or at once if `child` died. */
export async function waitForLog<T>(
  what: string,
  child: Child,
  from: number,
  parse: (line: Record<string, unknown>) => T | undefined,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const line of jsonLines(child.logFile, from)) {
      const v = parse(line);
      if (v !== undefined) return v;
    }
    if (!isRunning(child))
      throw new Error(`${child.name} exited while waiting for ${what}:\n${logTail(child.logFile, 30)}`);
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${logTail(child.logFile, 30)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The JSON log lines written at or after byte offset `from`. */
export function jsonLines(file: string, from = 0): Record<string, unknown>[] {
  let text: string;
  try {
    text = readFileSync(file).subarray(from).toString('utf8');
  } catch {
    return [];
  }
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a line being written
    }
  }
  return out;
}

export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

export interface NodeSpec {
  index: number;
  institution: string;
  home: string;
  peerId: string;
  logFile: string;
  /** A test-only entry script instead of bin/jrchain.ts (the Byzantine validator), and its environment. */
  script?: string;
  env?: NodeJS.ProcessEnv;
}

/** How long a (re)start may take on a loaded two-core machine: Node, TypeScript and libp2p load first. */
const START_TIMEOUT_MS = 90_000;

export class ClusterNode {
  readonly index: number;
  readonly institution: string;
  readonly home: string;
  readonly peerId: string;
  readonly logFile: string;
  readonly #spec: NodeSpec;
  #child: Child | undefined;
  #paused = false;
  /** The API of the current run; the previous run's until a restart reports the new one. */
  apiUrl = '';
  p2pPort: number | undefined;
  /** Runs started, including the first. */
  starts = 0;
  /** Exits nobody asked for (a crash of the node itself), with the exit code or signal. */
  readonly crashes: (number | string)[] = [];
  #exitExpected = false;

  constructor(spec: NodeSpec) {
    this.#spec = spec;
    this.index = spec.index;
    this.institution = spec.institution;
    this.home = spec.home;
    this.peerId = spec.peerId;
    this.logFile = spec.logFile;
  }

  get running(): boolean {
    return isRunning(this.#child);
  }

  get paused(): boolean {
    return this.#paused && this.running;
  }

  get pid(): number | undefined {
    return this.running ? this.#child!.proc.pid : undefined;
  }

  /** Starts the process and resolves with its bound p2p port once the node reports it started. */
  async start(): Promise<number> {
    if (this.running) throw new Error(`${this.institution} is already running`);
    const from = fileSize(this.logFile);
    const child = spawnTracked(
      this.institution,
      ['start', '--home', this.home],
      this.logFile,
      this.#spec.env,
      this.#spec.script,
    );
    this.#child = child;
    this.#paused = false;
    this.#exitExpected = false;
    this.starts++;
    child.exited.then((code) => {
      if (!this.#exitExpected) this.crashes.push(code);
    });
    const started = await waitForLog(
      `${this.institution} to start`,
      child,
      from,
      (l) => (l.msg === 'node started' ? l : undefined),
      START_TIMEOUT_MS,
    );
    this.apiUrl = String(started.apiUrl);
    const addr = (started.p2pAddrs as string[])[0]!;
    this.p2pPort = Number(/\/tcp\/(\d+)/.exec(addr)![1]);
    return this.p2pPort;
  }

  /** SIGKILL: a crash, nothing flushed beyond what the node already made durable. */
  async kill(): Promise<void> {
    const c = this.#child;
    if (c === undefined || !isRunning(c)) return;
    this.#exitExpected = true;
    c.proc.kill('SIGKILL');
    await c.exited;
    this.#paused = false;
  }

  /** SIGTERM, then SIGKILL after the grace period: a graceful stop. */
  async stop(): Promise<void> {
    const c = this.#child;
    if (c === undefined || !isRunning(c)) return;
    this.#exitExpected = true;
    if (this.#paused) this.resume();
    await stopChild(c, 20_000);
  }

  /** SIGSTOP: the process hangs, its sockets stay open and silent. */
  pause(): void {
    if (!isRunning(this.#child)) throw new Error(`${this.institution} is not running`);
    this.#child!.proc.kill('SIGSTOP');
    this.#paused = true;
  }

  resume(): void {
    if (!isRunning(this.#child)) throw new Error(`${this.institution} is not running`);
    this.#child!.proc.kill('SIGCONT');
    this.#paused = false;
  }

  /** Deletes the data directory (ledger and consensus state); keys, config and genesis stay. */
  wipe(): void {
    if (this.running) throw new Error(`stop ${this.institution} before wiping its data`);
    rmSync(join(this.home, 'data'), { recursive: true, force: true });
  }

  async status(timeoutMs = 5000): Promise<NodeStatus> {
    const r = await fetch(`${this.apiUrl}/v1/status`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) throw new Error(`${this.institution}: /v1/status answered ${r.status}`);
    return (await r.json()) as NodeStatus;
  }

  /** Status if the node answers, undefined otherwise (down, paused, busy). */
  async tryStatus(timeoutMs = 3000): Promise<NodeStatus | undefined> {
    if (!this.running || this.paused) return undefined;
    return this.status(timeoutMs).catch(() => undefined);
  }

  tail(lines = 40): string {
    return logTail(this.logFile, lines);
  }

  /** Warning and error log lines of every run so far, counted by message. */
  problems(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const l of jsonLines(this.logFile)) {
      if (typeof l.level === 'number' && l.level >= 40) out[String(l.msg)] = (out[String(l.msg)] ?? 0) + 1;
    }
    return out;
  }
}

/** The fields of GET /v1/status the harness reads (docs/api.md). */
export interface NodeStatus {
  institution: string;
  height: number;
  headHash: string;
  view: number;
  primary: string;
  isPrimary: boolean;
  consensus: 'normal' | 'viewChange';
  connectedValidators: number;
  pendingTxs: number;
  anchor: { anchoredHeight: number; lagBlocks: number; lagMs: number; lastError: string | null } | null;
  sync: { state: string; targetHeight?: number };
  drops: Record<string, number>;
  ready: { ready: boolean; reasons: string[] };
  [k: string]: unknown;
}
