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

/** Runs ErsChecker on a record, a document, a root certificate (PEM file) and a verification time. */
export function bcCheckErs(record: string, doc: string, rootPem: string, at: Date): Promise<CheckerRun> {
  const source = join(repoRoot, 'test/interop/java/ErsChecker.java');
  const args = ['-cp', JARS.join(':'), source, record, doc, rootPem, at.toISOString()];
  return new Promise((resolve) => {
    execFile('java', args, { encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ ok: err === null, out: `${stdout}${stderr}`.trim() });
    });
  });
}
