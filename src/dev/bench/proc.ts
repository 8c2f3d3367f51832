/**
 * CPU time and memory of a process, read from /proc (Linux) or `ps` elsewhere. The parsers are pure and tested;
 * the readers return undefined when the process is gone.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on every Linux we run). */
export const USER_HZ = 100;

export interface ProcSample {
  /** User + system CPU seconds the process has used so far. */
  cpuSeconds: number;
  /** Resident set size now, MiB. */
  rssMb: number;
  /** Peak resident set size so far (VmHWM), MiB; equal to rssMb where the OS does not report it. */
  peakRssMb: number;
  /** Of rssMb: anonymous memory (heap, malloc, stacks) and file-backed pages (the node binary, libraries), MiB. */
  anonMb?: number;
  fileMb?: number;
}

/** Where a process's resident memory was at its highest sampled RSS. */
export interface RssBreakdown {
  rssMb: number;
  anonMb?: number;
  fileMb?: number;
}

/**
 * CPU seconds from the text of /proc/<pid>/stat. The command name (field 2) is in parentheses and may hold
 * spaces or parentheses itself, so fields are counted from the last ')'; utime and stime are fields 14 and 15.
 */
export function parseProcStat(text: string, hz = USER_HZ): number {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line');
  const fields = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state), so field k is fields[k - 3].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('no utime/stime in /proc stat');
  return (utime + stime) / hz;
}

/** VmRSS, VmHWM, RssAnon and RssFile (kB) from the text of /proc/<pid>/status, in MiB. */
export function parseProcStatus(text: string): Omit<ProcSample, 'cpuSeconds'> {
  const kb = (name: string): number | undefined => {
    const m = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const rss = kb('VmRSS');
  if (rss === undefined) throw new Error('no VmRSS in /proc status');
  const hwm = kb('VmHWM') ?? rss;
  const anon = kb('RssAnon');
  const file = kb('RssFile');
  return {
    rssMb: rss / 1024,
    peakRssMb: hwm / 1024,
    ...(anon === undefined ? {} : { anonMb: anon / 1024 }),
    ...(file === undefined ? {} : { fileMb: file / 1024 }),
  };
}

/** `ps -o rss=,time=` output: RSS in kB and CPU time as [[dd-]hh:]mm:ss[.cc]. */
export function parsePs(text: string): { rssMb: number; cpuSeconds: number } {
  const [rss, time] = text.trim().split(/\s+/);
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$/.exec(time ?? '');
  if (rss === undefined || m === null) throw new Error(`unexpected ps output: ${text}`);
  const [, d, h, min, sec] = m;
  const cpuSeconds = Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(min) * 60 + Number(sec);
  return { rssMb: Number(rss) / 1024, cpuSeconds };
}

export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    if (process.platform === 'linux') {
      const cpuSeconds = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      return { cpuSeconds, ...parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8')) };
    }
    const { rssMb, cpuSeconds } = parsePs(
      execFileSync('ps', ['-o', 'rss=,time=', '-p', String(pid)], { encoding: 'utf8' }),
    );
    return { cpuSeconds, rssMb, peakRssMb: rssMb };
  } catch {
    return undefined;
  }
}

/**
 * Samples processes every `intervalMs`: keeps each one's highest RSS (and the OS's own peak where it has one),
 * and takes CPU snapshots on demand (`mark`).
 */
export class ResourceSampler {
  readonly #pids: ReadonlyMap<string, number>;
  readonly #peak = new Map<string, number>();
  readonly #highest = new Map<string, RssBreakdown>();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(pids: ReadonlyMap<string, number>, intervalMs = 500) {
    this.#pids = pids;
    this.#timer = setInterval(() => this.#sample(), intervalMs);
    this.#timer.unref();
    this.#sample();
  }

  /** CPU seconds of each process now. */
  mark(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, pid] of this.#pids) {
      const s = this.#record(name, pid);
      if (s !== undefined) out.set(name, s.cpuSeconds);
    }
    return out;
  }

  /** Highest RSS seen (MiB) per process, sampling once more first. */
  peaks(): Map<string, number> {
    this.#sample();
    return new Map(this.#peak);
  }

  /** Each process's sample with the highest RSS, split into anonymous and file-backed memory where known. */
  highestSamples(): Map<string, RssBreakdown> {
    return new Map(this.#highest);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #sample(): void {
    for (const [name, pid] of this.#pids) this.#record(name, pid);
  }

  #record(name: string, pid: number): ProcSample | undefined {
    const s = sampleProcess(pid);
    if (s === undefined) return s;
    this.#peak.set(name, Math.max(this.#peak.get(name) ?? 0, s.rssMb, s.peakRssMb));
    if (s.rssMb > (this.#highest.get(name)?.rssMb ?? -1)) {
      this.#highest.set(name, { rssMb: s.rssMb, anonMb: s.anonMb, fileMb: s.fileMb });
    }
    return s;
  }
}

/** Busy fraction of the whole machine between two readings of /proc/stat's first line (Linux only). */
export function machineCpuTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    return parseMachineCpu(line);
  } catch {
    return undefined;
  }
}

/** `cpu  user nice system idle iowait irq softirq steal ...` → busy and total ticks. */
export function parseMachineCpu(line: string): { busy: number; total: number } {
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((x) => !Number.isFinite(x))) throw new Error('unexpected /proc/stat line');
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = f[3]! + (f[4] ?? 0);
  return { busy: total - idle, total };
}
