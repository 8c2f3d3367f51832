/**
 * Deployment benchmark (docs/benchmark.md, "Deployment"): the time from nothing to a ready local alliance, as a
 * new operator would go: `git clone` of this repository (its committed HEAD) into a temporary directory,
 * `npm ci` there (from the local npm cache: `--prefer-offline`, so it measures installing, not downloading),
 * then `jrchain devnet` from the clone, until every validator answers `GET /ready` with 200. Prints each
 * phase and the total; stops the devnet and removes the directory. Loopback ports only.
 * Run: `npm run bench:deploy` (`-- --validators 4 --json`).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { portFree } from '../src/dev/processes.ts';

interface DeployResult {
  validators: number;
  cloneMs: number;
  npmCiMs: number;
  /** From starting `jrchain devnet` in the clone to every validator ready. */
  devnetReadyMs: number;
  totalMs: number;
}

async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no block of ${count} free loopback ports found`);
}

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status === 200;
  } catch {
    return false;
  }
}

async function run(validators: number, log: (s: string) => void): Promise<DeployResult> {
  const repo = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'jrchain-deploy-'));
  const clone = join(dir, 'jrchain');
  const t0 = performance.now();
  try {
    log(`cloning ${repo} into ${clone}`);
    execFileSync('git', ['clone', '--quiet', '--no-hardlinks', repo, clone], { stdio: 'inherit' });
    const cloned = performance.now();
    log('npm ci (offline-first, from the local cache)');
    execFileSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: clone,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const installed = performance.now();
    const base = await freePorts(2 * validators + 1);
    const apiBase = base + validators;
    log(`starting a ${validators}-validator devnet from the clone`);
    const devnet = spawn(
      'npm',
      [
        'run',
        'devnet',
        '--',
        '--dir',
        join(dir, 'devnet'),
        '--validators',
        String(validators),
        '--base-port',
        String(base),
        '--api-base-port',
        String(apiBase),
        '--tsa-port',
        String(base + 2 * validators),
      ],
      { cwd: clone, stdio: ['ignore', 'ignore', 'inherit'], detached: true },
    );
    try {
      const urls = Array.from({ length: validators }, (_, i) => `http://127.0.0.1:${apiBase + i}/ready`);
      const deadline = Date.now() + 300_000;
      for (;;) {
        if (devnet.exitCode !== null) throw new Error(`the devnet exited (${devnet.exitCode}) before ready`);
        if ((await Promise.all(urls.map(ready))).every(Boolean)) break;
        if (Date.now() > deadline) throw new Error('the devnet was not ready within 300 s');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      // npm runs the devnet as a child: signal the whole group, then wait for it to stop its nodes.
      if (devnet.exitCode === null) {
        const exited = new Promise((r) => devnet.once('exit', r));
        process.kill(-devnet.pid!, 'SIGTERM');
        await exited;
      }
    }
    const done = performance.now();
    return {
      validators,
      cloneMs: cloned - t0,
      npmCiMs: installed - cloned,
      devnetReadyMs: done - installed,
      totalMs: done - t0,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const opts = new Command('bench:deploy')
  .option('--validators <n>', 'validators of the devnet', positive, 4)
  .option('--json', 'print JSON')
  .parse()
  .opts<{ validators: number; json?: boolean }>();
const r = await run(opts.validators, (s) => process.stderr.write(`${s}\n`));
if (opts.json) console.log(JSON.stringify(r, null, 2));
else {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    `clone ${s(r.cloneMs)}, npm ci ${s(r.npmCiMs)}, devnet ready ${s(r.devnetReadyMs)}: ` +
      `fresh clone to a ready ${r.validators}-validator devnet in ${s(r.totalMs)}`,
  );
}
