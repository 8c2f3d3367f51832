/** Finds free loopback ports for multi-process tests, so they never collide with a developer's devnet. */
import { createServer } from 'node:net';

function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** The first port of `count` consecutive free ports, searched from a random start in 20000-50000. */
export async function freePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await free(p);
    if (ok) return base;
  }
  throw new Error(`no block of ${count} free ports found`);
}
