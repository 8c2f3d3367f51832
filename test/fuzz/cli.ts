/**
 * `npm run fuzz [-- --inputs N] [--seed S] [--target NAME]`: mutates a valid receipt, tokens and the
 * canonical encodings behind them, and runs every decoder and verifier on each mutant (N inputs in all,
 * spread evenly over the targets; default 10,000). Prints one line per target and exits 1 when any outcome
 * was unexpected (a verifier threw, or a decoder threw something other than a typed error).
 */
import { parseArgs } from 'node:util';
import { buildCorpus } from './corpus.ts';
import { fuzzTarget } from './run.ts';
import { targets } from './targets.ts';

const { values } = parseArgs({
  options: {
    inputs: { type: 'string', default: '10000' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    target: { type: 'string' },
  },
});
const inputs = Number(values.inputs);
const seed = Number(values.seed);
if (!Number.isSafeInteger(inputs) || inputs < 1 || !Number.isSafeInteger(seed)) {
  console.error('usage: npm run fuzz -- [--inputs N] [--seed S] [--target NAME]');
  process.exit(2);
}
const all = targets(await buildCorpus()).filter(
  (t) => values.target === undefined || t.name === values.target,
);
if (all.length === 0) {
  console.error(`no target named ${values.target}`);
  process.exit(2);
}
const each = Math.max(1, Math.ceil(inputs / all.length));
console.log(`fuzz: ${all.length} targets, ${each} inputs each, seed ${seed}`);
let unexpected = 0;
let total = 0;
for (const t of all) {
  const r = await fuzzTarget(t, each, seed);
  unexpected += r.unexpected;
  total += r.inputs;
  console.log(`${r.name.padEnd(24)} ${r.inputs} inputs  ${r.unexpected} unexpected  ${r.ms} ms`);
  for (const e of r.examples) console.log(`  ${e}`);
}
console.log(`total: ${total} inputs, ${unexpected} unexpected`);
process.exit(unexpected === 0 ? 0 : 1);
