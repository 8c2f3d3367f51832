/**
 * Test-only entry point of a Byzantine validator: the real `jrchain` CLI and node, except that the validator's
 * consensus transport is replaced by `equivocating-transport.ts`. Nothing in src/ or bin/ knows about it, so
 * no production build, flag or config can reach it: it exists only when a test runs this file instead of
 * bin/jrchain.ts. (A module resolve hook swaps the one import; the node otherwise runs unchanged: an honest
 * core whose outgoing messages a behaviour rewrites, as the simulation's Byzantine endpoints do.)
 *
 *   node test/cluster/byzantine/start.ts start --home DIR       with JRCHAIN_BYZANTINE_KEY=DIR/validator.key
 */
import { registerHooks } from 'node:module';

const real = new URL('../../../src/node/net/consensus-transport.ts', import.meta.url).href;
const byzantine = new URL('./equivocating-transport.ts', import.meta.url).href;

registerHooks({
  resolve(specifier, context, next) {
    const r = next(specifier, context);
    return r.url === real && context.parentURL !== byzantine ? { ...r, url: byzantine } : r;
  },
});

await import('../../../bin/jrchain.ts');
