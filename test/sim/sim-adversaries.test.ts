import { CI_SEEDS, simSuite } from './ci.ts';

// The stronger adversaries of issue 14 (adversary-scenarios.ts), n=4 and n=7, on fewer seeds than the basic
// scenarios: each run is heavier. `npm run sim` sweeps them on any number of seeds.
const kinds = [
  'view-change-liar',
  'selective-commits',
  'double-pre-prepare',
  'dangerous-state',
  'long-delays',
  'clock-skew',
  'torn-writes',
  'lying-sync-peer',
];

simSuite(
  'simulation: stronger adversaries',
  [4, 7].flatMap((n) => kinds.map((k) => `${k}-n${n}`)),
  Math.ceil(CI_SEEDS / 6),
);
