/**
 * The layering rules of src/, as data. docs/architecture.md states the same table (layering.test.ts checks that
 * the two agree); change both together, and only with a reason.
 */

/** Each module of src/ (a folder), lowest first, with the other modules it may import. */
export const MODULE_DEPS: Readonly<Record<string, readonly string[]>> = {
  core: [],
  ledger: ['core'],
  timestamp: ['core'],
  p2p: ['core'],
  consensus: ['core', 'ledger'],
  receipt: ['core', 'ledger', 'timestamp'],
  api: ['core', 'ledger', 'receipt'],
  node: ['core', 'ledger', 'timestamp', 'p2p', 'consensus', 'receipt', 'api'],
  dev: ['core', 'ledger', 'timestamp', 'p2p', 'consensus', 'receipt', 'api', 'node'],
  cli: ['core', 'ledger', 'timestamp', 'p2p', 'consensus', 'receipt', 'api', 'node', 'dev'],
};

/** Modules that import no package and no Node built-in: the pure consensus core does no I/O of any kind. */
export const PURE_MODULES: readonly string[] = ['consensus'];

/** Packages that only some files may import, and why. */
export const PACKAGE_OWNERS: readonly { packages: RegExp; owners: readonly string[]; why: string }[] = [
  {
    packages: /^(level|classic-level)(\/|$)/,
    owners: ['src/ledger/level-store.ts'],
    why: 'one file imports level: the ledger store (the in-memory store implements the same interface)',
  },
  {
    packages: /^(libp2p|@libp2p\/|@chainsafe\/libp2p-|@multiformats\/)/,
    owners: ['src/p2p/', 'src/core/keys.ts'],
    why: 'only the p2p host speaks libp2p (core/keys.ts derives peer ids from validator keys)',
  },
  {
    packages: /^(vite|playwright-core)(\/|$)/,
    owners: ['src/dev/page-bundle.ts'],
    why: 'devDependencies: only the page bundler imports vite, lazily; src/ never drives a browser',
  },
];

/**
 * The files whose module graph runs in browsers unchanged (the verification page, ADR 013): their static and
 * dynamic imports, followed transitively (type-only imports are erased), reach no Node built-in, only these
 * packages, and no file that uses Node's globals (Buffer, process) outside `BROWSER_GLOBALS_ALLOWED`.
 */
export const BROWSER_ENTRIES: readonly string[] = [
  'src/receipt/verify.ts',
  'src/receipt/case-verify.ts',
  'src/api/verifier/page.ts',
];
export const BROWSER_PACKAGES = /^@noble\/(curves|hashes)\/|^@peculiar\/asn1-(cms|tsp|x509)$/;
/**
 * By design, with a fallback for browsers: core/crypto.ts and core/sm/sm3.ts reach node:crypto through
 * `process.getBuiltinModule`, core/bytes.ts's toHex uses Buffer and core/codec.ts's Writer takes its scratch
 * space from Buffer's pool, when they run on Node (hot paths keep their speed).
 */
export const BROWSER_GLOBALS_ALLOWED: readonly string[] = [
  'src/core/crypto.ts',
  'src/core/bytes.ts',
  'src/core/codec.ts',
  'src/core/sm/sm3.ts',
];
