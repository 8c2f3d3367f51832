import { describe, expect, it } from 'vitest';
import { parseMachineCpu, parseProcStat, parseProcStatus, parsePs } from '../../../../src/dev/bench/proc.ts';

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
