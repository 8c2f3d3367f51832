/**
 * Per-operation cost of the two crypto suites (issue 20, ADR 014): sign, verify with a hot key (a validator's:
 * SM2 builds a precomputed table for it), verify with a cold key (a new key each time), and a 256-byte hash.
 * Also what node:crypto's own SM2 would cost: it cannot be used (it computes Z with an empty user ID, not the
 * standard's default, and gives no way to set one: docs/long-term.md), but it bounds what a native path could do.
 * Run: `npm run bench:crypto-suites` (or `npx node bench/crypto-suites.ts --rounds 7`). Prints medians of
 * `--rounds` rounds, each timing a batch of operations.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { Command, InvalidArgumentError } from 'commander';
import { utf8 } from '../src/core/bytes.ts';
import { Domain } from '../src/core/crypto.ts';
import { type CryptoSuite, ED25519_SHA256, SM2_SM3 } from '../src/core/crypto-suite.ts';
import { sm3Js } from '../src/core/sm/sm3.ts';
import { median } from '../src/dev/bench/stats.ts';

const program = new Command()
  .option('--rounds <n>', 'rounds per operation (the median is printed)', (v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
    return n;
  })
  .parse();
const rounds: number = program.opts().rounds ?? 5;

/** Median microseconds per call of `op`, over `rounds` rounds of `batch` calls (after one warm-up round). */
function time(batch: number, op: (i: number) => void): number {
  const samples: number[] = [];
  for (let r = -1; r < rounds; r++) {
    const start = performance.now();
    for (let i = 0; i < batch; i++) op(i);
    if (r >= 0) samples.push(((performance.now() - start) * 1000) / batch);
  }
  return median(samples);
}

const body = utf8.encode('x'.repeat(256));
const rows: [string, string, number][] = [];

for (const suite of [ED25519_SHA256, SM2_SM3] as CryptoSuite[]) {
  const signer = suite.signer(suite.generatePrivateKey());
  const signature = signer.sign(Domain.tx, body);
  const fifty = Array.from({ length: 50 }, () => {
    const s = suite.signer(suite.generatePrivateKey());
    return { publicKey: s.publicKey, signature: s.sign(Domain.tx, body) };
  });
  rows.push([suite.name, 'sign', time(200, () => signer.sign(Domain.tx, body))]);
  rows.push([
    suite.name,
    'verify, hot key',
    time(200, () => suite.verify(signer.publicKey, Domain.tx, body, signature)),
  ]);
  // Fresh keys, each verified once: what a flood of unknown keys costs (decoding, Z, no table).
  const fresh = Array.from({ length: 40 * (rounds + 1) }, () => {
    const s = suite.signer(suite.generatePrivateKey());
    return { publicKey: s.publicKey, signature: s.sign(Domain.tx, body) };
  });
  let next = 0;
  rows.push([
    suite.name,
    'verify, cold key (first sight)',
    time(40, () => {
      const c = fresh[next++]!;
      suite.verify(c.publicKey, Domain.tx, body, c.signature);
    }),
  ]);
  rows.push([
    suite.name,
    'verify, 50 keys round-robin',
    time(200, (i) => {
      const c = fifty[i % fifty.length]!;
      suite.verify(c.publicKey, Domain.tx, body, c.signature);
    }),
  ]);
  rows.push([suite.name, 'hash 256 B', time(5000, () => suite.hash(body))]);
}
rows.push(['sm3 pure TS (browser)', 'hash 256 B', time(5000, () => sm3Js(body))]);

// node:crypto's SM2 (OpenSSL, Z over an empty user ID): for comparison only.
const pem = generateKeyPairSync('ec', { namedCurve: 'SM2' }).privateKey.export({
  format: 'pem',
  type: 'pkcs8',
});
const sm2Key = createPrivateKey(pem);
const sm2Pub = createPublicKey(sm2Key);
const nodeSig = sign('sm3', body, sm2Key);
rows.push(['node:crypto SM2 (not usable)', 'sign', time(200, () => sign('sm3', body, sm2Key))]);
rows.push(['node:crypto SM2 (not usable)', 'verify', time(200, () => verify('sm3', body, sm2Pub, nodeSig))]);

console.log(`| suite | operation | median µs (${rounds} rounds) |\n|---|---|---|`);
for (const [suite, op, us] of rows) console.log(`| ${suite} | ${op} | ${us.toFixed(1)} |`);
