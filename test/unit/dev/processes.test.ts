import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnJrchain } from '../../../src/dev/processes.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs a script in place of bin/jrchain.ts that prints MALLOC_ARENA_MAX as its child environment has it. */
async function arenaMaxSeen(env: NodeJS.ProcessEnv): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'jrchain-proc-'));
  dirs.push(dir);
  const script = join(dir, 'print-env.mjs');
  writeFileSync(script, 'console.log("arena=" + (process.env.MALLOC_ARENA_MAX ?? "unset"));\n');
  const log = join(dir, 'out.log');
  const child = spawnJrchain('print-env', [], log, env, script);
  expect(await child.exited).toBe(0);
  return readFileSync(log, 'utf8').trim();
}

describe('spawnJrchain', () => {
  it('runs validators with two glibc malloc arenas unless the environment says otherwise', async () => {
    const saved = process.env.MALLOC_ARENA_MAX;
    delete process.env.MALLOC_ARENA_MAX;
    try {
      expect(await arenaMaxSeen({})).toBe('arena=2');
      expect(await arenaMaxSeen({ MALLOC_ARENA_MAX: '8' })).toBe('arena=8');
      process.env.MALLOC_ARENA_MAX = '4';
      expect(await arenaMaxSeen({})).toBe('arena=4');
    } finally {
      if (saved === undefined) delete process.env.MALLOC_ARENA_MAX;
      else process.env.MALLOC_ARENA_MAX = saved;
    }
  });
});
