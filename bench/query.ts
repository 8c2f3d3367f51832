/**
 * Query benchmark: the API's CPU per query, without the HTTP server or a client on the same cores. The node's
 * routes run over a LevelDB ledger of bench/ledger-records.ts's records (`--records`, generated untimed, or
 * `--ledger DIR` from `npm run bench:gen-ledger`); this process calls the handlers of
 * `GET /v1/evidence/:hash` (unsigned) and `GET /v1/cases/:caseId` (signed, RFC 9421, as the institution that
 * recorded the evidence) one at a time with requests signed beforehand, and reports CPU µs per query (user +
 * system of the process, so LevelDB's threads count) and the latency percentiles. `--cpu-prof FILE` profiles
 * the timed part. This is the node's cost per query; the HTTP server's is not in it.
 * Run: `npm run bench:query` (or `npm run bench:query -- --records 100000 --queries 20000`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { AuditLog } from '../src/api/audit.ts';
import type { ApiRequest, Route } from '../src/api/http.ts';
import { signRequest } from '../src/api/http-signature.ts';
import { type ApiBackend, apiRoutes } from '../src/api/routes.ts';
import { toHex } from '../src/core/bytes.ts';
import { privateKeyFromSeed } from '../src/core/crypto.ts';
import { percentile } from '../src/dev/bench/stats.ts';
import { LevelLedgerStore } from '../src/ledger/level-store.ts';
import { LedgerQueries } from '../src/ledger/queries.ts';
import { TEST_INSTITUTIONS } from '../test/helpers/fixtures.ts';
import { clientSeed } from '../test/helpers/signed.ts';
import { profiled } from './cpu-profile.ts';
import { benchGenesis, caseId, docHash, readLedgerInfo, writeLedger } from './ledger-records.ts';

interface KindResult {
  queries: number;
  cpuUsPerQuery: number;
  p50Us: number;
  p99Us: number;
}

function backendOver(queries: LedgerQueries): ApiBackend {
  const none = () => Promise.reject(new Error('not in this bench'));
  return {
    genesis: benchGenesis,
    queries,
    submit: none,
    submitMany: none,
    onCommit: () => () => {},
    status: async () => ({}),
    ready: () => ({ ready: true, reasons: [] }),
    metrics: none,
  };
}

function request(route: Route, path: string, params: Record<string, string>, headers = {}): ApiRequest {
  return {
    method: route.method,
    path,
    search: '',
    remoteAddress: '10.0.0.1',
    params,
    query: new URLSearchParams(),
    headers,
    body: new Uint8Array(0),
    signal: new AbortController().signal,
  };
}

async function timed(reqs: ApiRequest[], route: Route): Promise<KindResult> {
  const lat: number[] = [];
  const cpu0 = process.cpuUsage();
  for (const req of reqs) {
    const t0 = performance.now();
    const r = await route.handler(req);
    lat.push((performance.now() - t0) * 1000);
    if ((r.status ?? 200) !== 200) throw new Error(`${req.path}: ${r.status} ${JSON.stringify(r.json)}`);
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    queries: reqs.length,
    cpuUsPerQuery: (cpu.user + cpu.system) / reqs.length,
    p50Us: percentile(lat, 50),
    p99Us: percentile(lat, 99),
  };
}

async function run(opts: Options): Promise<{ records: number; byHash: KindResult; cases: KindResult }> {
  const dir = mkdtempSync(join(tmpdir(), 'jrchain-bench-query-'));
  try {
    let ledger = opts.ledger;
    let records = opts.records;
    if (ledger === undefined) {
      ledger = join(dir, 'ledger');
      const store = await LevelLedgerStore.open(ledger);
      await writeLedger(store, records, 500);
      await store.close();
    } else {
      records = readLedgerInfo(ledger).records;
    }
    const store = await LevelLedgerStore.open(ledger);
    try {
      const now = Date.now();
      const routes = apiRoutes(backendOver(new LedgerQueries(store, benchGenesis)), {
        now: () => now,
        audit: new AuditLog(undefined, () => now),
      });
      const route = (path: string) => routes.find((r) => r.method === 'GET' && r.path === path)!;
      const byHash = route('/v1/evidence/:hash');
      const cases = route('/v1/cases/:caseId');
      const keys = TEST_INSTITUTIONS.map((i) => privateKeyFromSeed(clientSeed(i)));
      const pick = (k: number) => Math.floor((k * 7919) % records);
      const hashReqs = Array.from({ length: opts.queries }, (_, k) => {
        const hash = toHex(docHash(pick(k)));
        return request(byHash, `/v1/evidence/${hash}`, { hash });
      });
      const created = Math.floor(now / 1000);
      const caseReqs = Array.from({ length: opts.queries }, (_, k) => {
        const n = pick(k);
        const inst = n % TEST_INSTITUTIONS.length;
        const path = `/v1/cases/${caseId(n)}`;
        const url = new URL(`http://127.0.0.1${path}`);
        const keyid = `${TEST_INSTITUTIONS[inst]}/client-1`;
        const headers = signRequest({ method: 'GET', url }, keyid, keys[inst]!, created);
        return request(cases, path, { caseId: caseId(n) }, headers);
      });
      return await profiled(opts.cpuProf, async () => ({
        records,
        byHash: await timed(hashReqs, byHash),
        cases: await timed(caseReqs, cases),
      }));
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

interface Options {
  records: number;
  queries: number;
  ledger?: string;
  cpuProf?: string;
  json?: boolean;
}

const opts = new Command()
  .name('bench:query')
  .option('--records <n>', 'evidence records in the generated ledger', positive, 20_000)
  .option('--queries <n>', 'queries of each kind', positive, 5_000)
  .option('--ledger <dir>', 'query a ledger made by `npm run bench:gen-ledger` instead of generating one')
  .option('--cpu-prof <file>', 'write a CPU profile of the timed queries to file')
  .option('--json', 'print JSON')
  .parse()
  .opts<Options>();
const result = await run(opts);
if (opts.json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  console.log(`records ${result.records}`);
  console.log('query                  queries  CPU µs/query  p50 µs  p99 µs');
  for (const [name, r] of [
    ['evidence by hash', result.byHash],
    ['case (signed)', result.cases],
  ] as const) {
    console.log(
      `${name.padEnd(21)}  ${String(r.queries).padStart(7)}  ${r.cpuUsPerQuery.toFixed(0).padStart(12)}  ` +
        `${r.p50Us.toFixed(0).padStart(6)}  ${r.p99Us.toFixed(0).padStart(6)}`,
    );
  }
}
