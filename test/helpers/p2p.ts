/**
 * Helpers for p2p tests: deterministic keys, hosts on 127.0.0.1 that are always stopped, a recording logger
 * and condition waits. Tests never sleep for a fixed time; they wait for a condition with a generous deadline.
 */
import { utf8 } from '../../src/core/bytes.ts';
import { publicKeyFromSeed, sha256 } from '../../src/core/crypto.ts';
import { peerIdOf } from '../../src/core/keys.ts';
import {
  type Allowlist,
  createP2PHost,
  type Logger,
  MemoryMetrics,
  type P2PHost,
  type P2PHostInit,
} from '../../src/p2p/index.ts';

export const LOOPBACK = '/ip4/127.0.0.1/tcp/0';

export function testSeed(label: string): Uint8Array {
  return sha256(utf8.encode(`jrchain-p2p-test:${label}`));
}

export function testPeerId(label: string): string {
  return peerIdOf(publicKeyFromSeed(testSeed(label)));
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  msg: string;
}

export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];
  debug(fields: Record<string, unknown>, msg: string): void {
    this.entries.push({ level: 'debug', fields, msg });
  }
  info(fields: Record<string, unknown>, msg: string): void {
    this.entries.push({ level: 'info', fields, msg });
  }
  warn(fields: Record<string, unknown>, msg: string): void {
    this.entries.push({ level: 'warn', fields, msg });
  }
  error(fields: Record<string, unknown>, msg: string): void {
    this.entries.push({ level: 'error', fields, msg });
  }
  find(msg: string, fields: Record<string, unknown> = {}): LogEntry[] {
    return this.entries.filter(
      (e) => e.msg.includes(msg) && Object.entries(fields).every(([k, v]) => e.fields[k] === v),
    );
  }
}

export { waitFor } from './wait.ts';

export interface TestNode {
  label: string;
  peerId: string;
  host: P2PHost;
  logger: RecordingLogger;
  metrics: MemoryMetrics;
}

/** Tracks every host a test creates so afterEach can stop them all, pass or fail. */
export class HostPool {
  private readonly hosts: P2PHost[] = [];

  create(label: string, init: Omit<P2PHostInit, 'seed'> & { seed?: Uint8Array }): TestNode {
    const logger = new RecordingLogger();
    const metrics = new MemoryMetrics();
    const seed = init.seed ?? testSeed(label);
    const host = createP2PHost({ ...init, seed }, { logger, metrics });
    this.hosts.push(host);
    return { label, peerId: host.peerId, host, logger, metrics };
  }

  async stopAll(): Promise<void> {
    const hosts = this.hosts.splice(0);
    await Promise.allSettled(hosts.map((h) => h.stop()));
  }
}

/** An allowlist of the given labels as validators with no addresses yet (filled in after start). */
export function allowlistOf(labels: readonly string[], observers: readonly string[] = []): Allowlist {
  return {
    validators: labels.map((l) => ({ peerId: testPeerId(l), addrs: [] })),
    observers: observers.map(testPeerId),
  };
}

/** Tells every node where the other validators listen (ports are only known after start). */
export function shareAddrs(nodes: readonly TestNode[]): void {
  for (const a of nodes) {
    for (const b of nodes) {
      if (a === b || a.host.roleOf(b.peerId) !== 'validator') continue;
      a.host.updatePeerAddrs(b.peerId, b.host.addrs());
    }
  }
}

export function fullyConnected(nodes: readonly TestNode[]): boolean {
  return nodes.every((a) => nodes.every((b) => a === b || a.host.connectedPeers().includes(b.peerId)));
}

export function bytes(n: number, fill = 1): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

/** The TCP port of a multiaddr string. */
export function portOf(addr: string): number {
  const m = /\/tcp\/(\d+)/.exec(addr);
  if (m === null) throw new Error(`no tcp port in ${addr}`);
  return Number(m[1]);
}
