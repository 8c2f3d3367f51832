import { simSuite } from './ci.ts';
import { RECONFIG_SCENARIOS } from './scenarios.ts';

// Validator-set changes (ADR 006) during view changes, network faults, crashes and with Byzantine validators.
simSuite(
  'simulation: reconfiguration (n=4 to 5, 4, 6, 3)',
  RECONFIG_SCENARIOS.map((s) => s.name),
);
