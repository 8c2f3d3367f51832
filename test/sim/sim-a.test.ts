import { simSuite } from './ci.ts';

const kinds = ['baseline', 'lossy', 'isolated-primary', 'one-way-primary', 'split', 'flapping'];
const n4Only = [
  'crash-restart',
  'equivocating-primary',
  'twins',
  'replay',
  'future-view',
  'forged-new-view',
  'invalid-signatures',
  'backlog',
  'censoring-primary',
  'window-race',
];

simSuite('simulation (n=4, and n=7 network faults)', [
  ...[...kinds, ...n4Only].map((k) => `${k}-n4`),
  ...kinds.map((k) => `${k}-n7`),
]);
