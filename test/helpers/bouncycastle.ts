/**
 * BouncyCastle's ERS implementation (org.bouncycastle.tsp.ers, Debian's libbcpkix-java) as an independent
 * verifier of evidence records: test/interop/java/ErsChecker.java, run with Java's single-file source launch.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './tsa.ts';

const JARS = ['bcprov', 'bcutil', 'bcpkix'].map((j) => `/usr/share/java/${j}.jar`);

/** Why BouncyCastle cannot run here, or undefined when it can. */
export function bouncyCastleMissing(): string | undefined {
  const missing = JARS.filter((j) => !existsSync(j));
  if (missing.length > 0) return `missing ${missing.join(', ')} (apt-get install libbcpkix-java)`;
  const java = process.env.PATH?.split(':').some((d) => existsSync(join(d, 'java')));
  return java ? undefined : 'no java on PATH (apt-get install default-jre-headless)';
}

export interface CheckerRun {
  ok: boolean;
  out: string;
}

function run(cmd: string, args: string[]): Promise<CheckerRun> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ ok: err === null, out: `${stdout}${stderr}`.trim() });
    });
  });
}

/**
 * Compiles ErsChecker once into `dir` with javac (a JDK), or, with only a JRE, leaves it to Java's
 * single-file source launch on every run. Returns the class path entry, or the source file to launch.
 */
async function checker(dir: string): Promise<string[]> {
  const source = join(repoRoot, 'test/interop/java/ErsChecker.java');
  const hasJavac = process.env.PATH?.split(':').some((d) => existsSync(join(d, 'javac')));
  if (!hasJavac) return ['-cp', JARS.join(':'), source];
  const compiled = await run('javac', ['-cp', JARS.join(':'), '-d', dir, source]);
  if (!compiled.ok) throw new Error(`javac ErsChecker.java failed: ${compiled.out}`);
  return ['-cp', [dir, ...JARS].join(':'), 'ErsChecker'];
}

/**
 * Runs ErsChecker on a record, a document, a root certificate (PEM file) and a verification time; `dir` is a
 * scratch directory for the compiled class.
 */
export async function bcCheckErs(
  dir: string,
  record: string,
  doc: string,
  rootPem: string,
  at: Date,
): Promise<CheckerRun> {
  launch ??= checker(dir);
  return run('java', [...(await launch), record, doc, rootPem, at.toISOString()]);
}

let launch: Promise<string[]> | undefined;
