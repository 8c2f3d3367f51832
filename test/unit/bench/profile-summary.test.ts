import { describe, expect, it } from 'vitest';
import { type CpuProfile, formatSummary, summarise } from '../../../bench/profile-summary.ts';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

/** root → main → (verify, recurse → recurse), plus idle. */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 6] },
    { id: 2, callFrame: frame('main', 'file:///x/src/a.ts', 9), children: [3, 4] },
    { id: 3, callFrame: frame('verify', 'node:internal/crypto/sig', 233) },
    { id: 4, callFrame: frame('recurse', 'file:///x/node_modules/@scope/pkg/i.js', 0), children: [5] },
    { id: 5, callFrame: frame('recurse', 'file:///x/node_modules/@scope/pkg/i.js', 0) },
    { id: 6, callFrame: frame('(idle)') },
  ],
  samples: [3, 3, 5, 2, 6],
  timeDeltas: [100, 100, 200, 100, 500],
};

describe('profile summary', () => {
  it('sums self time per function and file, and inclusive time once per sample', () => {
    const s = summarise([profile]);
    expect(s.totalUs).toBe(1000);
    expect(s.self.get('verify node:internal/crypto/sig:234')).toBe(200);
    expect(s.self.get('main src/a.ts:10')).toBe(100);
    expect(s.byFile.get('@scope/pkg')).toBe(200);
    expect(s.byFile.get('(idle)')).toBe(500);
    // The recursive frame counts once for the sample under it; main includes everything below it.
    expect(s.inclusive.get('recurse @scope/pkg:1')).toBe(200);
    expect(s.inclusive.get('main src/a.ts:10')).toBe(500);
    expect(s.inclusive.get('(root)')).toBe(1000);
  });

  it('charges library time to the innermost src/ caller, and skips the first samples when asked', () => {
    const s = summarise([profile]);
    expect(s.bySrc.get('main src/a.ts:10')).toBe(500);
    expect(s.bySrc.get('(idle)')).toBe(500);
    // Samples end at 100, 200, 400, 500 and 1000 µs: skipping 250 µs leaves the last three.
    const late = summarise([profile], 250);
    expect(late.totalUs).toBe(800);
    expect(late.self.get('verify node:internal/crypto/sig:234')).toBeUndefined();
    expect(late.bySrc.get('main src/a.ts:10')).toBe(300);
  });

  it('adds several profiles and formats percentages', () => {
    const s = summarise([profile, profile]);
    expect(s.totalUs).toBe(2000);
    const text = formatSummary(s, 3);
    expect(text).toContain('50.0 %  (idle)');
    expect(text).toContain('sampled 0.0 s, not idle 0.0 s');
  });
});
