import { describe, expect, it } from 'vitest';
import { LogBudget } from '../../../src/core/log-limit.ts';

describe('LogBudget', () => {
  it('allows perWindow lines per window, then reports how many it dropped', () => {
    let t = 1_000;
    const b = new LogBudget(3, 10_000, () => t);
    const taken = Array.from({ length: 5 }, () => b.take().ok);
    expect(taken).toEqual([true, true, true, false, false]);
    t += 9_999;
    expect(b.take().ok).toBe(false);
    t += 1;
    expect(b.take()).toEqual({ ok: true, suppressed: 3 });
    expect(b.take()).toEqual({ ok: true, suppressed: 0 });
  });
});
