/**
 * Summarises V8 .cpuprofile files (from `npm run bench -- --profile`, or any `node --cpu-prof`): the share of
 * sampled time per function, self and inclusive (a function counts once per sample however deep it recurses),
 * and self time per source file or package. Usage: `node bench/profile-summary.ts [--top N] FILE...`;
 * several files are summed (the validators of one run).
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled time in all, µs. */
  totalUs: number;
  /** By function ("name file:line"), µs. */
  self: Map<string, number>;
  inclusive: Map<string, number>;
  /** Self time by file (or package for node_modules, or "(native)" / "(idle)" / "(gc)"), µs. */
  byFile: Map<string, number>;
  /**
   * Time charged to the innermost frame of this repository's src/ (what our code costs, the libraries and
   * node internals it calls included); samples with no src/ frame stay under their own function.
   */
  bySrc: Map<string, number>;
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = url.search(/\/(src|bench|bin|test)\//);
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

function key(f: CallFrame): string {
  const name = f.functionName === '' ? '(anonymous)' : f.functionName;
  if (f.url === '') return name;
  return `${name} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
}

function fileKey(f: CallFrame): string {
  if (f.url === '' && /^\((idle|garbage collector|program|root)\)$/.test(f.functionName))
    return f.functionName;
  return shortUrl(f.url);
}

/** `skipUs`: leave out the samples of each profile's first microseconds (start-up, module loading). */
export function summarise(profiles: readonly CpuProfile[], skipUs = 0): ProfileSummary {
  const s: ProfileSummary = {
    totalUs: 0,
    self: new Map(),
    inclusive: new Map(),
    byFile: new Map(),
    bySrc: new Map(),
  };
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  for (const p of profiles) {
    const byId = new Map<number, ProfileNode>();
    const parent = new Map<number, number>();
    for (const n of p.nodes) {
      byId.set(n.id, n);
      for (const c of n.children ?? []) parent.set(c, n.id);
    }
    let at = 0;
    p.samples.forEach((id, i) => {
      const dt = Math.max(0, p.timeDeltas[i] ?? 0);
      at += dt;
      const node = byId.get(id);
      if (node === undefined || at < skipUs) return;
      s.totalUs += dt;
      add(s.self, key(node.callFrame), dt);
      add(s.byFile, fileKey(node.callFrame), dt);
      const seen = new Set<string>();
      let src: string | undefined;
      for (let up: number | undefined = id; up !== undefined; up = parent.get(up)) {
        const f = byId.get(up)!.callFrame;
        if (src === undefined && /\/src\//.test(f.url) && !f.url.includes('node_modules/')) src = key(f);
        const k = key(f);
        if (seen.has(k)) continue;
        seen.add(k);
        add(s.inclusive, k, dt);
      }
      add(s.bySrc, src ?? key(node.callFrame), dt);
    });
  }
  return s;
}

export function formatSummary(s: ProfileSummary, top: number): string {
  const pct = (v: number) => `${((v / s.totalUs) * 100).toFixed(1).padStart(5)} %`;
  const list = (title: string, m: Map<string, number>) => [
    title,
    ...[...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `  ${pct(v)}  ${k}`),
  ];
  const idle = s.byFile.get('(idle)') ?? 0;
  return [
    `sampled ${(s.totalUs / 1e6).toFixed(1)} s, not idle ${((s.totalUs - idle) / 1e6).toFixed(1)} s`,
    ...list('self time by file or package:', s.byFile),
    ...list('self time by function:', s.self),
    ...list('inclusive time by function:', s.inclusive),
    ...list('time by innermost src/ function (what it calls included):', s.bySrc),
  ].join('\n');
}

if (import.meta.main) {
  const program = new Command('profile-summary').argument('<files...>', '.cpuprofile files (summed)').option(
    '--top <n>',
    'rows per list',
    (v) => {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
      return n;
    },
    30,
  );
  program.option(
    '--skip <s>',
    'leave out the first seconds of each profile (start-up)',
    (v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('a number of seconds >= 0');
      return n;
    },
    0,
  );
  program.parse();
  const files = program.args;
  const profiles = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as CpuProfile);
  const opts = program.opts<{ top: number; skip: number }>();
  process.stdout.write(`${formatSummary(summarise(profiles, opts.skip * 1e6), opts.top)}\n`);
}
