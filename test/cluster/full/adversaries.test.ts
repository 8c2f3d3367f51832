/**
 * Adversaries, on four validators under load (`npm run test:cluster`):
 * - 12: a Byzantine validator. It runs the real node through a test-only entry point
 *   (test/cluster/byzantine/start.ts) that swaps its consensus transport for one that equivocates (as primary:
 *   conflicting PRE-PREPAREs; as backup: conflicting PREPAREs and COMMITs) and then sends garbage frames and
 *   PRE-PREPAREs naming txs that do not exist. We
 *   chose this over twins (a second process sharing the key) because it keeps one connection per validator
 *   pair, so what reaches each honest validator is decided by the behaviour, not by which twin won a dial.
 * - 14: an outsider with a fresh key that dials every validator, and raw bytes on the p2p port.
 */
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HOME_FILES } from '../../../src/node/home.ts';
import { encodeSyncRequest } from '../../../src/node/net/sync-messages.ts';
import { createP2PHost, MemoryMetrics, noopLogger, ProtocolId } from '../../../src/p2p/index.ts';
import { jsonLines } from '../harness/node-process.ts';
import { runScenario } from '../harness/scenario.ts';

const SCENARIO_TIMEOUT_MS = 10 * 60_000;
const BYZANTINE_ENTRY = fileURLToPath(new URL('../byzantine/start.ts', import.meta.url));

describe('adversaries, 4 validators', () => {
  it(
    '12. a Byzantine primary equivocates and sends garbage: no fork, detected and logged',
    async () => {
      await runScenario(
        {
          name: 'byzantine-4',
          validators: 4,
          // Validator 0 is the primary of view 0: it equivocates from the first batch on.
          byzantine: {
            index: 0,
            script: BYZANTINE_ENTRY,
            env: (home) => ({ JRCHAIN_BYZANTINE_KEY: join(home, HOME_FILES.validatorKey) }),
          },
        },
        async (s) => {
          const byz = s.cluster.nodes[0]!;
          const honest = s.cluster.honest.map((i) => s.cluster.nodes[i]!);
          const logged = (file: string, match: (l: Record<string, unknown>) => boolean) =>
            jsonLines(file).some(match);
          await s.cluster.waitUntil(
            'the Byzantine validator to equivocate',
            async () => logged(byz.logFile, (l) => l.msg === 'byzantine: equivocating'),
            s.bound,
          );
          await s.cluster.waitUntil(
            'every honest validator to log an equivocation',
            async () => honest.every((n) => logged(n.logFile, (l) => String(l.msg).includes('equivocated'))),
            s.bound,
          );
          const startedAt = Date.now();
          await s.cluster.waitUntil(
            'every honest validator to ban it for its garbage',
            async () =>
              honest.every((n) =>
                logged(n.logFile, (l) => l.msg === 'p2p: peer banned' && l.peer === byz.peerId),
              ),
            s.bound,
          );
          s.note('banAfterGarbageMs', Date.now() - startedAt);
          for (const st of (await s.heights()).values()) {
            expect(st.drops.equivocation ?? 0).toBeGreaterThan(0);
            expect((st.drops.malformed ?? 0) + (st.drops.badSignature ?? 0)).toBeGreaterThan(0);
            // A signed PRE-PREPARE naming a tx that exists nowhere is dropped before the core, never prepared.
            expect(st.drops.txsUnavailable ?? 0).toBeGreaterThan(0);
          }
          await s.waitProgress('the honest validators commit without it', { blocks: 10 });
          s.note('view', (await s.cluster.primary()).view);
        },
      );
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    '14. an outsider with a fresh key connects and sends frames: refused, with nothing affected',
    async () => {
      await runScenario({ name: 'outsider-4', validators: 4 }, async (s) => {
        await s.waitProgress('warm-up', { blocks: 5 });
        const nodes = s.cluster.nodes;
        const outsider = createP2PHost(
          {
            seed: randomBytes(32),
            listen: ['/ip4/127.0.0.1/tcp/0'],
            allowlist: {
              validators: nodes.map((n) => ({
                peerId: n.peerId,
                addrs: [`/ip4/127.0.0.1/tcp/${n.p2pPort}`],
              })),
            },
          },
          { logger: noopLogger, metrics: new MemoryMetrics() },
        );
        try {
          await outsider.start();
          // Each validator refuses it right after the Noise handshake, the first point its key is proven.
          await s.cluster.waitUntil(
            'every validator to refuse the outsider',
            async () =>
              nodes.every((n) =>
                jsonLines(n.logFile).some(
                  (l) => l.msg === 'p2p: connection refused by gater' && l.peer === outsider.peerId,
                ),
              ),
            s.bound,
          );
          for (const n of nodes) {
            for (const protocol of [ProtocolId.consensus, ProtocolId.tx]) {
              // Queued at best while its half of a refused connection lingers; never delivered.
              expect(['not-connected', 'queued']).toContain(
                outsider.send(n.peerId, protocol, randomBytes(200)),
              );
            }
            await expect(
              outsider.request(n.peerId, ProtocolId.sync, encodeSyncRequest({ kind: 'status' }), {
                timeoutMs: 5000,
              }),
            ).rejects.toThrow();
            const metrics = await (await fetch(`${n.apiUrl}/metrics`)).text();
            expect(metrics).toMatch(
              /^p2p_connections_refused_total\{direction="inbound",reason="not-allowlisted"\} [1-9]/m,
            );
          }
        } finally {
          await outsider.stop();
        }
        // Not even libp2p: raw bytes on the p2p port. The validator hangs up.
        for (const n of nodes) {
          const sock = createConnection({ host: '127.0.0.1', port: n.p2pPort! });
          let closed = false;
          sock.on('error', () => {});
          sock.once('close', () => (closed = true));
          sock.write(randomBytes(4096));
          try {
            await s.cluster.waitUntil(`${n.institution} to hang up on garbage`, async () => closed, s.bound);
          } finally {
            sock.destroy();
          }
        }
        for (const st of (await s.heights()).values()) {
          expect(st.peers as { peerId: string }[]).not.toContainEqual(
            expect.objectContaining({ peerId: outsider.peerId }),
          );
        }
        await s.waitProgress('progress after the outsider', { blocks: 5 });
      });
    },
    SCENARIO_TIMEOUT_MS,
  );
});
