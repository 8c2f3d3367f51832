/**
 * p2p micro-benchmark: two hosts in one process on 127.0.0.1 (TCP + Noise + Yamux).
 * Run: `npm run bench:p2p` (or `npx node bench/p2p.ts`; the system Node 20 cannot run libp2p 3).
 *
 * Scenarios:
 * - 1 KiB frames, one write per frame (writeBatchBytes = 1): what a naive transport does.
 * - 1 KiB frames, coalesced writes (the default 256 KiB write batches).
 * - 64 KiB frames, each standing for a batch of 64 x 1 KiB transactions (how tx gossip should send).
 * - sync request/response, 1 KiB each way, 1 and 16 in flight.
 * Frames/s and MB/s count frame bodies delivered to the receiving handler, first send to last receipt.
 */
import { utf8 } from '../src/core/bytes.ts';
import { publicKeyFromSeed, sha256 } from '../src/core/crypto.ts';
import { peerIdOf } from '../src/core/keys.ts';
import {
  createP2PHost,
  DEFAULT_PROTOCOLS,
  type HostLimitsInit,
  type P2PHost,
  type ProtocolConfig,
  ProtocolId,
} from '../src/p2p/index.ts';

const MiB = 1024 * 1024;
const seedOf = (label: string) => sha256(utf8.encode(`jrchain-bench:${label}`));

/** Big queues: the benchmark measures the transport, not the drop policy. */
const protocols: ProtocolConfig[] = DEFAULT_PROTOCOLS.map((p) =>
  p.kind === 'message'
    ? { ...p, maxFrameBytes: 1 * MiB, maxQueueFrames: 1 << 20, maxQueueBytes: 512 * MiB }
    : p,
);

async function pair(limits: HostLimitsInit): Promise<{ a: P2PHost; b: P2PHost }> {
  const ids = ['bench-a', 'bench-b'].map((l) => peerIdOf(publicKeyFromSeed(seedOf(l))));
  const allowlist = { validators: ids.map((peerId) => ({ peerId, addrs: [] as string[] })) };
  // The inbound rate limit is lifted too: the benchmark measures the transport, not the flood guard.
  const unlimited = {
    inboundFrames: { perSecond: 1e9, burst: 1e9 },
    inboundBytes: { perSecond: 1e12, burst: 1e12 },
  };
  const make = (label: string) =>
    createP2PHost({
      seed: seedOf(label),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      allowlist,
      protocols,
      limits: { ...unlimited, ...limits },
    });
  const a = make('bench-a');
  const b = make('bench-b');
  await Promise.all([a.start(), b.start()]);
  a.updatePeerAddrs(b.peerId, b.addrs());
  await until(() => a.connectedPeers().includes(b.peerId) && b.connectedPeers().includes(a.peerId));
  return { a, b };
}

function until(cond: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const tick = () => {
      if (cond()) resolve();
      else if (Date.now() > deadline) reject(new Error('benchmark condition timed out'));
      else setTimeout(tick, 1);
    };
    tick();
  });
}

const yieldToIo = () => new Promise<void>((r) => setImmediate(r));

interface Row {
  scenario: string;
  frames: number;
  seconds: number;
  framesPerSec: number;
  mbPerSec: number;
  note: string;
}

async function streamFrames(
  scenario: string,
  frameBytes: number,
  count: number,
  limits: HostLimitsInit,
  note = '',
) {
  const { a, b } = await pair(limits);
  try {
    let received = 0;
    b.onMessage(ProtocolId.tx, () => {
      received++;
    });
    const frame = new Uint8Array(frameBytes).fill(7);
    // Warm up the stream (negotiation, window growth).
    for (let i = 0; i < 100; i++) a.send(b.peerId, ProtocolId.tx, frame);
    await until(() => received === 100);
    received = 0;
    const start = process.hrtime.bigint();
    let sent = 0;
    // Keep the sender ahead of the wire without letting the queue grow without bound.
    const highWater = Math.max(64, Math.floor((8 * MiB) / frameBytes));
    while (sent < count) {
      const burst = Math.min(count - sent, highWater);
      for (let i = 0; i < burst; i++) {
        if (a.send(b.peerId, ProtocolId.tx, frame) !== 'queued') throw new Error('send refused');
      }
      sent += burst;
      while (a.peerStatus(b.peerId)!.queuedFrames > highWater / 2) await yieldToIo();
    }
    await until(() => received === count);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return row(scenario, count, seconds, (count * frameBytes) / MiB / seconds, note);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

async function requests(scenario: string, count: number, inFlight: number): Promise<Row> {
  const { a, b } = await pair({});
  try {
    const body = new Uint8Array(1024).fill(1);
    b.onRequest(ProtocolId.sync, () => body);
    for (let i = 0; i < 20; i++) await a.request(b.peerId, ProtocolId.sync, body);
    const start = process.hrtime.bigint();
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next++;
        await a.request(b.peerId, ProtocolId.sync, body);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return row(
      scenario,
      count,
      seconds,
      (count * 2 * 1024) / MiB / seconds,
      'requests/s; MB/s counts both directions',
    );
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

function row(scenario: string, frames: number, seconds: number, mbPerSec: number, note: string): Row {
  return { scenario, frames, seconds, framesPerSec: frames / seconds, mbPerSec, note };
}

const rows: Row[] = [];
rows.push(await streamFrames('1 KiB frames, one write each', 1024, 30_000, { writeBatchBytes: 1 }));
rows.push(await streamFrames('1 KiB frames, coalesced writes', 1024, 200_000, {}));
rows.push(await streamFrames('64 KiB frames (64 x 1 KiB txs)', 64 * 1024, 10_000, {}, 'x64 for tx/s'));
rows.push(await requests('sync req/resp 1 KiB, 1 in flight', 2_000, 1));
rows.push(await requests('sync req/resp 1 KiB, 8 in flight', 5_000, 8));

console.log(`node ${process.version}, ${new Date().toISOString()}`);
console.log('| scenario | frames | seconds | frames/s | MB/s | note |');
console.log('|---|---:|---:|---:|---:|---|');
for (const r of rows) {
  console.log(
    `| ${r.scenario} | ${r.frames} | ${r.seconds.toFixed(2)} | ${Math.round(r.framesPerSec).toLocaleString('en')} | ${r.mbPerSec.toFixed(1)} | ${r.note} |`,
  );
}
