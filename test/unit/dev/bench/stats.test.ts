import { describe, expect, it } from 'vitest';
import { median, percentile } from '../../../../src/dev/bench/stats.ts';

describe('bench statistics', () => {
  it('percentile uses the nearest rank and never interpolates', () => {
    const samples = [15, 20, 35, 40, 50];
    expect(percentile(samples, 5)).toBe(15);
    expect(percentile(samples, 30)).toBe(20);
    expect(percentile(samples, 40)).toBe(20);
    expect(percentile(samples, 50)).toBe(35);
    expect(percentile(samples, 100)).toBe(50);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // unsorted input
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 99.5)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
  });

  it('percentile refuses p outside (0, 100] and is NaN without samples', () => {
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(percentile([], 50)).toBeNaN();
  });

  it('median handles odd and even counts without reordering its input', () => {
    const input = [3, 1, 2];
    expect(median(input)).toBe(2);
    expect(input).toEqual([3, 1, 2]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
