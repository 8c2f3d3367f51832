import { simSuite } from './ci.ts';

simSuite(
  'simulation (n=7, crashes and Byzantine validators)',
  [
    'crash-restart',
    'equivocating-primary',
    'twins',
    'replay',
    'future-view',
    'forged-new-view',
    'invalid-signatures',
    'backlog',
    'censoring-primary',
  ].map((k) => `${k}-n7`),
);
