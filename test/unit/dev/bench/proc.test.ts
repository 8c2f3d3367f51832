import { describe, expect, it } from 'vitest';
import {
  parseMachineCpu,
  parseProcStat,
  parseProcStatus,
  parsePs,
  ResourceSampler,
} from '../../../../src/dev/bench/proc.ts';

describe('bench process sampling parsers', () => {
  it('reads utime + stime from /proc/<pid>/stat, with spaces and parentheses in the command name', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[11] = '250'; // utime, field 14
    fields[12] = '150'; // stime, field 15
    expect(parseProcStat(`1234 (node) ${fields.join(' ')}`)).toBe(4);
    expect(parseProcStat(`1234 (my (odd) name) ${fields.join(' ')}`)).toBe(4);
    expect(() => parseProcStat('garbage')).toThrow();
  });

  it('reads VmRSS and VmHWM from /proc/<pid>/status in MiB', () => {
    const text = 'Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t11\n';
    expect(parseProcStatus(text)).toEqual({ rssMb: 100, peakRssMb: 200 });
    expect(parseProcStatus('VmRSS:\t1024 kB\n')).toEqual({ rssMb: 1, peakRssMb: 1 });
    expect(() => parseProcStatus('Name:\tnode\n')).toThrow();
  });

  it('splits RSS into anonymous and file-backed memory where the kernel reports it', () => {
    const text = 'VmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nRssAnon:\t   81920 kB\nRssFile:\t   20480 kB\n';
    expect(parseProcStatus(text)).toEqual({ rssMb: 100, peakRssMb: 200, anonMb: 80, fileMb: 20 });
  });

  it('reads ps rss and cputime in its forms', () => {
    expect(parsePs(' 2048 01:02.50\n')).toEqual({ rssMb: 2, cpuSeconds: 62.5 });
    expect(parsePs('1024 1:00:05')).toEqual({ rssMb: 1, cpuSeconds: 3605 });
    expect(parsePs('1024 2-01:00:00')).toEqual({ rssMb: 1, cpuSeconds: 2 * 86400 + 3600 });
    expect(() => parsePs('x')).toThrow();
  });

  it('reads busy and total ticks from /proc/stat', () => {
    expect(parseMachineCpu('cpu  100 0 50 800 50 0 0 0 0 0')).toEqual({ busy: 150, total: 1000 });
    expect(() => parseMachineCpu('cpu x')).toThrow();
  });
});

describe.runIf(process.platform === 'linux')('ResourceSampler on Linux', () => {
  it('keeps the highest RSS sample of a process with its anonymous and file-backed parts', () => {
    const sampler = new ResourceSampler(new Map([['me', process.pid]]), 60_000);
    try {
      const b = sampler.highestSamples().get('me');
      expect(b?.rssMb).toBeGreaterThan(0);
      expect(b!.anonMb! + b!.fileMb!).toBeLessThanOrEqual(b!.rssMb + 1);
      expect(b!.anonMb!).toBeGreaterThan(b!.rssMb / 4);
      expect(sampler.peaks().get('me')).toBeGreaterThanOrEqual(b!.rssMb);
    } finally {
      sampler.stop();
    }
  });
});
