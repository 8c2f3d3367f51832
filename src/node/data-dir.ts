/**
 * The node's data directory holds the ledger and the audit log of case reads: it is created 0700, and a node
 * refuses to start on one that group or others can access, naming the chmod that fixes it. There is no
 * override: a deployment that shares the directory with a group can still run the node as that one user.
 */
import { mkdirSync, statSync } from 'node:fs';
import { JrError } from '../core/errors.ts';

export function prepareDataDir(path: string): void {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTDIR') throw err;
  }
  const st = statSync(path);
  if (!st.isDirectory()) throw new JrError('NODE_CONFIG', `data directory ${path} is not a directory`);
  if ((st.mode & 0o077) !== 0)
    throw new JrError(
      'NODE_CONFIG',
      `data directory ${path} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 700 ${path}`,
    );
}
