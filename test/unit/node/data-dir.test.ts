import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareDataDir } from '../../../src/node/data-dir.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-datadir-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const messageOf = (f: () => void): string => {
  try {
    f();
  } catch (err) {
    return `${(err as { code?: string }).code}: ${(err as Error).message}`;
  }
  return 'no error';
};

describe('the data directory', () => {
  it('is created 0700, parents included, and accepted again', () => {
    const path = join(dir, 'home', 'data');
    prepareDataDir(path);
    expect(statSync(path).mode & 0o777).toBe(0o700);
    expect(() => prepareDataDir(path)).not.toThrow();
  });

  it.each([0o750, 0o705, 0o770, 0o755])('is refused at mode %o, naming the path and the chmod', (mode) => {
    const path = join(dir, `open-${mode.toString(8)}`);
    mkdirSync(path, { mode: 0o700 });
    chmodSync(path, mode);
    const m = messageOf(() => prepareDataDir(path));
    expect(m).toContain('NODE_CONFIG');
    expect(m).toContain(`run: chmod 700 ${path}`);
  });

  it('is refused when it is a file', () => {
    const path = join(dir, 'a-file');
    writeFileSync(path, '');
    expect(messageOf(() => prepareDataDir(path))).toContain('not a directory');
  });
});
