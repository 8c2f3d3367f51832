/**
 * Joining benchmark (docs/benchmark.md, "Deployment"): how long a new validator takes to join a running
 * alliance by governance. Four validator processes (the cluster suite's harness, test/cluster/harness) commit a
 * light evidence load (8 tx/s); a fifth institution is registered with its client key (proposed by one
 * validator, approved by two more: a quorum of three of four), then its validator is added the same way; its
 * node starts on an empty data directory, catches up from the genesis, and signs a commit certificate in the
 * five-validator set. Prints each phase. Loopback only; everything is removed afterwards.
 * Run: `npm run bench:join` (`-- --json`).
 */
import { Command } from 'commander';
import type { GovernanceAction } from '../src/core/governance.ts';
import { readKeyFile } from '../src/core/keys.ts';
import { Cluster } from '../test/cluster/harness/cluster.ts';
import { gov, govTx, post, validatorKeyOf } from '../test/cluster/harness/gov-tx.ts';
import { getJson } from '../test/cluster/harness/http.ts';
import { DEFAULT_LOAD, LoadGenerator } from '../test/cluster/harness/load.ts';

interface JoinResult {
  /** Registering the institution: proposal posted to passed on all four. */
  registerMs: number;
  /** Adding its validator, the same way. */
  addValidatorMs: number;
  /** From starting the new node (empty data directory) to its head reaching the others'. */
  catchUpMs: number;
  /** From starting the new node to its signature in a commit certificate of the five-validator set. */
  validatesMs: number;
  /** From the first proposal to the new validator signing. */
  totalMs: number;
  /** The height the five-validator set took effect at. */
  effectiveHeight: number;
}

const WAIT_MS = 300_000;

/** Proposes `action` from validator by[0], approves it from the others; resolves when it passed on all four. */
async function pass(c: Cluster, action: GovernanceAction, by: number[]): Promise<number> {
  const p = govTx(c, c.nodes[by[0]!]!.institution, validatorKeyOf(c, by[0]!), {
    kind: 'propose',
    deadline: Date.now() + 10 * 60_000,
    action,
  });
  const posted = await post(c, by[0]!, p);
  if (posted.status >= 300) throw new Error(`proposal refused: ${JSON.stringify(posted)}`);
  for (const i of by.slice(1)) {
    await c.waitUntil(
      `proposal ${action.type} on ${i}`,
      async () => (await gov(c, i)).proposals.some((x) => x.id === p.hashHex),
      WAIT_MS,
    );
    const a = govTx(c, c.nodes[i]!.institution, validatorKeyOf(c, i), {
      kind: 'approve',
      proposalId: p.hash,
    });
    const r = await post(c, i, a);
    if (r.status >= 300) throw new Error(`approval refused: ${JSON.stringify(r)}`);
  }
  let effective = 0;
  for (const i of [0, 1, 2, 3]) {
    await c.waitUntil(
      `proposal ${action.type} passed on ${i}`,
      async () => {
        const found = (await gov(c, i)).proposals.find((x) => x.id === p.hashHex);
        effective = found?.effectiveHeight ?? 0;
        return found?.status === 'passed';
      },
      WAIT_MS,
    );
  }
  return effective;
}

async function run(log: (s: string) => void): Promise<JoinResult> {
  const c = await Cluster.create({ name: 'bench-join', validators: 4, joining: 1 });
  const load = new LoadGenerator(
    LoadGenerator.identities(
      c.genesis.chainId,
      c.nodes.slice(0, 4).map((n) => ({ id: n.institution, keyFile: c.clientKey(n.index) })),
    ),
    () => [0, 1, 2, 3].map((i) => ({ index: i, apiUrl: c.nodes[i]!.apiUrl })),
    'bench-join',
    DEFAULT_LOAD,
  );
  try {
    log('starting four validators');
    await c.start();
    load.start();
    const joiner = c.nodes[4]!;
    const t0 = Date.now();
    log(`registering ${joiner.institution}`);
    await pass(
      c,
      {
        type: 'registerInstitution',
        id: joiner.institution,
        name: 'Bank E',
        clientKeys: [{ keyId: 'client-1', publicKey: readKeyFile(c.clientKey(4)).publicKey }],
      },
      [0, 1, 2],
    );
    const registered = Date.now();
    log(`adding its validator`);
    const effectiveHeight = await pass(
      c,
      { type: 'addValidator', institution: joiner.institution, publicKey: validatorKeyOf(c, 4).publicKey },
      [1, 2, 3],
    );
    const added = Date.now();
    log(`starting its node (in force from height ${effectiveHeight})`);
    await c.startNode(4);
    const started = Date.now();
    const target = Math.max(...(await heights(c)));
    await c.waitUntil(
      `${joiner.institution} to catch up to ${target}`,
      async () => ((await joiner.tryStatus())?.height ?? -1) >= target,
      WAIT_MS,
    );
    const caughtUp = Date.now();
    let next = effectiveHeight + 1;
    await c.waitUntil(
      `${joiner.institution} to sign a commit certificate`,
      async () => {
        const head = (await joiner.tryStatus())?.height ?? 0;
        for (; next <= head; next++) {
          const b = await getJson<{ certificate: { signers: string[] } }>(
            `${joiner.apiUrl}/v1/blocks/${next}`,
          );
          if (b.certificate.signers.includes(joiner.institution)) return true;
        }
        return undefined;
      },
      WAIT_MS,
    );
    const validates = Date.now();
    return {
      registerMs: registered - t0,
      addValidatorMs: added - registered,
      catchUpMs: caughtUp - started,
      validatesMs: validates - started,
      totalMs: validates - t0,
      effectiveHeight,
    };
  } finally {
    await load.stop();
    await c.destroy();
  }
}

async function heights(c: Cluster): Promise<number[]> {
  return [...(await c.statuses([0, 1, 2, 3])).values()].map((s) => s.height);
}

const opts = new Command('bench:join').option('--json', 'print JSON').parse().opts<{ json?: boolean }>();
const r = await run((s) => process.stderr.write(`${s}\n`));
if (opts.json) console.log(JSON.stringify(r, null, 2));
else {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    `register ${s(r.registerMs)}, add validator ${s(r.addValidatorMs)}, new node caught up ${s(r.catchUpMs)}, ` +
      `signing ${s(r.validatesMs)} after its start: ${s(r.totalMs)} from the first proposal`,
  );
}
