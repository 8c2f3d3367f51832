import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../../bin/jrchain.ts', import.meta.url));

describe('bin/jrchain.ts', () => {
  it('runs under the pinned Node and prints help', () => {
    const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Usage: jrchain/);
    expect(r.stdout).toMatch(/genesis/);
    expect(r.stderr).not.toMatch(/ExperimentalWarning/);
  });

  it('exits 2 on an unknown command', () => {
    const r = spawnSync(process.execPath, [bin, 'frobnicate'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });
});
