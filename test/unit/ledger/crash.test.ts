/**
 * Atomicity after a crash: a child process commits blocks in a loop and is SIGKILLed at varied points (just
 * after starting a block's write, or after some commits). After each kill the ledger is reopened and must
 * hold every block the child reported committed, each complete with all its entries and indexes, and nothing
 * of any block beyond its head. Rounds continue on the same directory, so recovery is also recovered from.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import { decodeEvidence } from '../../../src/core/evidence.ts';
import { checkIntegrity } from '../../../src/ledger/integrity.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../../../src/ledger/level-store.ts';
import { PAGE_LIMIT_MAX } from '../../../src/ledger/paging.ts';
import type { EvidenceEntry, Page, PageRequest } from '../../../src/ledger/store.ts';
import { allPages, genesis, removeDir, tempDir } from '../../helpers/ledger.ts';
import { crashBlockTxs } from './crash-child.ts';

const CHILD = new URL('./crash-child.ts', import.meta.url).pathname;
const DEADLINE_MS = 30_000;

/** A running child with its stdout lines; waits on lines, never on the clock alone. */
class ChildRun {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  readonly #exited: Promise<void>;
  #notify: () => void = () => {};

  constructor(dir: string) {
    this.proc = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.#notify();
    });
    this.proc.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.#exited = new Promise((resolve) => this.proc.once('exit', () => resolve()));
    this.#exited.then(() => this.#notify());
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Resolves once a line equal to `wanted` arrives; fails if the child exits first or the deadline passes. */
  async waitForLine(wanted: string): Promise<void> {
    const deadline = Date.now() + DEADLINE_MS;
    while (!this.lines.includes(wanted)) {
      if (!this.running) throw new Error(`child exited before "${wanted}": ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no "${wanted}" within ${DEADLINE_MS} ms: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000); // re-checks the deadline; lines wake us at once
        this.#notify = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async kill(): Promise<void> {
    if (this.running) this.proc.kill('SIGKILL');
    await this.#exited;
  }

  /** The highest height the child printed with this word ("writing" or "committed"). */
  last(word: string): number {
    let max = 0;
    for (const l of this.lines)
      if (l.startsWith(`${word} `)) max = Math.max(max, Number(l.slice(word.length + 1)));
    return max;
  }
}

describe('crash consistency (SIGKILL mid-write)', () => {
  let dir: string | undefined;
  let child: ChildRun | undefined;

  afterEach(async () => {
    await child?.kill();
    child = undefined;
    await removeDir(dir);
    dir = undefined;
  });

  it('reopens to a consistent ledger after kills at varied points', async () => {
    dir = await tempDir('crash');
    // Kill on the k-th block after the round's starting head, at "writing" (a batch in flight) or "committed".
    const rounds: ['writing' | 'committed', number][] = [
      ['writing', 1],
      ['committed', 1],
      ['writing', 3],
      ['committed', 4],
      ['writing', 2],
      ['writing', 5],
      ['committed', 2],
    ];
    let head = 0;
    for (const [word, k] of rounds) {
      child = new ChildRun(dir);
      await child.waitForLine(`${word} ${head + k}`);
      await child.kill();
      const committed = child.last('committed');
      const started = child.last('writing');

      const store = await LevelLedgerStore.open(dir);
      try {
        head = store.head()?.height ?? 0;
        console.log('ROUND', word, k, {
          head,
          committed,
          started,
          problems: (await checkIntegrity(store)).length,
        });
        expect(head).toBeGreaterThanOrEqual(committed); // nothing acknowledged is lost
        expect(head).toBeLessThanOrEqual(started); // nothing appears that was never written
        expect(await checkIntegrity(store)).toEqual([]);

        // Independently of the layout: every tx of the head block is found through every query...
        const block = head === 0 ? undefined : await store.block(head);
        const found = new Map<string, Set<string>>();
        const positions = async (key: string, fetch: (p: PageRequest) => Promise<Page<EvidenceEntry>>) => {
          if (!found.has(key)) {
            const all = await allPages(fetch, PAGE_LIMIT_MAX);
            found.set(key, new Set(all.items.map((e) => `${e.height}/${e.index}`)));
          }
          return found.get(key)!;
        };
        for (const [index, hash] of (block?.txHashes ?? []).entries()) {
          const t = (await store.tx(hash))!;
          expect([t.height, t.index]).toEqual([head, index]);
          const ev = decodeEvidence(t.env.tx.payload);
          const inst = t.env.tx.institution;
          const here = `${head}/${index}`;
          expect(
            await positions(`h:${toHex(ev.hash)}`, (p) => store.evidenceByHash(ev.hashAlg, ev.hash, p)),
          ).toContain(here);
          expect(await positions(`c:${ev.caseId}`, (p) => store.evidenceByCase(ev.caseId, p))).toContain(
            here,
          );
          expect(
            await positions(`i:${inst}`, (p) =>
              store.evidenceByInstitution(inst, t.blockTime, t.blockTime + 1, p),
            ),
          ).toContain(here);
        }
        // ...and nothing of the next block exists.
        expect(await store.block(head + 1)).toBeUndefined();
        for (const env of crashBlockTxs(head + 1)) {
          expect(await store.tx(env.hash)).toBeUndefined();
        }
        const next = crashBlockTxs(head + 1).map((e) => e.tx);
        expect((await store.noncesUsed(next)).some(Boolean)).toBe(false);
        expect((await LedgerChain.open(store, genesis())).head().height).toBe(head);
      } finally {
        await store.close();
      }
    }
    expect(head).toBeGreaterThanOrEqual(rounds.length);
    // Seven child processes each start Node and open LevelDB: ~50 s alone on a loaded 2-core machine.
  }, 180_000);
});
