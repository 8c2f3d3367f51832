/**
 * `npm run mutate`: applies each mutant of mutants.ts, one at a time, in a scratch copy of the tree (the
 * working tree is never touched), runs the tests that must kill it, and reports killed or survived. Exits 1
 * if any mutant survives, 2 on a stale list or a failing baseline. Niced and sequential: the machine is shared.
 *
 *   npm run mutate [-- --only id[,id]] [--full] [--json] [--list] [--markdown] [--tests a.test.ts,b/]
 * `--tests` replaces every mutant's fast list (to look for the tests that kill a new mutant).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { applyMutant, listProblems, markdownTable } from './list.ts';
import { MUTANTS, type Mutant } from './mutants.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** A mutant whose tests run longer than this (e.g. a mutant that loops) counts as killed by the timeout. */
const RUN_LIMIT_MS = 20 * 60_000;

interface Outcome {
  id: string;
  file: string;
  status: 'killed' | 'survived';
  seconds: number;
  /** The failing tests (or 'timeout'): what killed it. */
  killedBy: string[];
}

let scratch: string | undefined;
let child: ChildProcess | undefined;

function cleanup(): void {
  if (child?.pid !== undefined && child.exitCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

/** A copy of the tracked and untracked (not ignored) files, sharing node_modules: uncommitted work counts. */
function makeScratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jrchain-mutate-'));
  scratch = dir;
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f !== '');
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    try {
      copyFileSync(join(ROOT, f), join(dir, f));
    } catch {
      // Deleted in the working tree but still in the index: not part of the tree under test.
    }
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

interface VitestJson {
  testResults?: {
    name: string;
    assertionResults?: { fullName: string; status: string }[];
    message?: string;
  }[];
}

function failuresOf(reportPath: string, dir: string): string[] {
  let report: VitestJson;
  try {
    report = JSON.parse(readFileSync(reportPath, 'utf8')) as VitestJson;
  } catch {
    return [];
  }
  const failed: string[] = [];
  for (const file of report.testResults ?? []) {
    const rel = file.name.startsWith(dir) ? file.name.slice(dir.length + 1) : file.name;
    const tests = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
    if (tests.length === 0 && file.message) failed.push(`${rel} (${file.message.split('\n')[0]})`);
    for (const t of tests) failed.push(`${rel} > ${t.fullName}`);
  }
  return failed;
}

/** Runs the tests in `dir`; resolves with the failing tests ([] when all pass). */
function runTests(dir: string, tests: readonly string[], full: boolean): Promise<string[]> {
  const reportPath = join(dir, '.mutate-report.json');
  rmSync(reportPath, { force: true });
  const vitest = ['npx', 'vitest', 'run', '--reporter=json', `--outputFile=${reportPath}`];
  const args = ['-n', '10', ...vitest, ...(full ? [] : tests)];
  return new Promise((resolvePromise) => {
    const p = spawn('nice', args, {
      cwd: dir,
      stdio: 'ignore',
      detached: true,
      env: {
        ...process.env,
        JRCHAIN_SHARED_DIR: process.env.JRCHAIN_SHARED_DIR ?? resolve(ROOT, '../shared'),
      },
    });
    child = p;
    const limit = setTimeout(() => {
      if (p.pid !== undefined) process.kill(-p.pid, 'SIGKILL');
    }, RUN_LIMIT_MS);
    p.once('exit', (code, signal) => {
      clearTimeout(limit);
      child = undefined;
      if (code === 0) return resolvePromise([]);
      const failed = failuresOf(reportPath, dir);
      if (signal !== null) return resolvePromise(['timeout']);
      resolvePromise(failed.length > 0 ? failed : [`vitest exited with ${code}`]);
    });
  });
}

async function runMutant(dir: string, m: Mutant, full: boolean): Promise<Outcome> {
  const path = join(dir, m.file);
  const original = readFileSync(path, 'utf8');
  const started = Date.now();
  writeFileSync(path, applyMutant(original, m));
  let failed: string[];
  try {
    failed = await runTests(dir, m.tests, full);
  } finally {
    writeFileSync(path, original);
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  return {
    id: m.id,
    file: m.file,
    status: failed.length > 0 ? 'killed' : 'survived',
    seconds,
    killedBy: failed,
  };
}

function select(only: string | undefined): Mutant[] {
  if (only === undefined) return [...MUTANTS];
  const ids = only.split(',');
  const unknown = ids.filter((id) => !MUTANTS.some((m) => m.id === id));
  if (unknown.length > 0) throw new Error(`unknown mutant ${unknown.join(', ')} (see --list)`);
  return MUTANTS.filter((m) => ids.includes(m.id));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      full: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      markdown: { type: 'boolean', default: false },
      tests: { type: 'string' },
    },
  });
  if (values.markdown) {
    console.log(markdownTable());
    return 0;
  }
  const override = values.tests?.split(',');
  const chosen = select(values.only).map((m) => (override ? { ...m, tests: override } : m));
  if (values.list) {
    for (const m of chosen) console.log(`${m.id.padEnd(28)} ${m.file}  ${m.breaks}`);
    return 0;
  }
  const problems = listProblems(ROOT);
  if (problems.length > 0) {
    console.error(`stale mutant list:\n  ${problems.join('\n  ')}`);
    return 2;
  }
  const dir = makeScratch();
  const log = (s: string) => {
    if (!values.json) console.log(s);
  };
  const union = [...new Set(chosen.flatMap((m) => m.tests))];
  log(`baseline: ${values.full ? 'npm test' : union.join(' ')}`);
  const baseline = await runTests(dir, union, values.full);
  if (baseline.length > 0) {
    console.error(`the unmutated tree fails its tests:\n  ${baseline.join('\n  ')}`);
    return 2;
  }
  const started = Date.now();
  const outcomes: Outcome[] = [];
  for (const m of chosen) {
    const o = await runMutant(dir, m, values.full);
    outcomes.push(o);
    const by = o.killedBy.length > 0 ? `  by ${o.killedBy.slice(0, 2).join('; ')}` : '';
    log(
      `${o.status === 'killed' ? 'killed  ' : 'SURVIVED'} ${o.id.padEnd(28)} ${`${o.seconds}s`.padStart(7)}${by}`,
    );
  }
  const survived = outcomes.filter((o) => o.status === 'survived');
  const seconds = Math.round((Date.now() - started) / 1000);
  if (values.json) {
    console.log(
      JSON.stringify(
        { total: outcomes.length, killed: outcomes.length - survived.length, seconds, outcomes },
        null,
        2,
      ),
    );
  } else {
    console.log(`\n${outcomes.length - survived.length}/${outcomes.length} mutants killed in ${seconds} s`);
    if (survived.length > 0) console.log(`survived: ${survived.map((o) => o.id).join(', ')}`);
  }
  return survived.length > 0 ? 1 : 0;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    cleanup();
    process.exit(130);
  });
}
main()
  .then((code) => {
    cleanup();
    process.exitCode = code;
  })
  .catch((err: unknown) => {
    cleanup();
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 2;
  });
