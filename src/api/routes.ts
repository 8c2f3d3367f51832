/**
 * The node's HTTP API (docs/api.md). Routes depend on a small backend interface rather than the Node, so
 * they can be tested over a memory ledger and a stand-in for consensus.
 */
import { decodeAuditHead } from '../core/audit-head.ts';
import { toHex, tryFromHex } from '../core/bytes.ts';
import { CodecError } from '../core/codec.ts';
import type { CryptoSuite } from '../core/crypto-suite.ts';
import { type HashAlg, HashAlgs } from '../core/evidence.ts';
import { type Genesis, genesisHash, genesisSuite, genesisToJson } from '../core/genesis.ts';
import { ID_PATTERN, Limits } from '../core/limits.ts';
import { decodeTxList, parseTx, type TxEnvelope } from '../core/tx.ts';
import type { TxRejection } from '../ledger/chain.ts';
import type { LedgerQueries } from '../ledger/queries.ts';
import { evidenceRecordFor, type Revocation } from '../receipt/ers-export.ts';
import { receiptFor } from '../receipt/ledger-receipt.ts';
import { AccessGuard } from './access.ts';
import { AuditLog } from './audit.ts';
import { Authenticator, registryOf } from './auth.ts';
import { type CaseKeyLookup, caseRoutes } from './case-routes.ts';
import { ApiError, type ApiRequest, type ApiResponse, RETRY_AFTER_S, type Route } from './http.ts';
import { operatorPageRoutes } from './operator-page.ts';
import { badRequest, ledgerCall, pageParams } from './params.ts';
import { type VerifierPageSource, verifierPageRoutes } from './verifier-page.ts';
import { auditHeadView, blockView, governanceView, recordView, txView } from './views.ts';

export type SubmitOutcome =
  | { status: 'accepted' | 'pending' | 'committed'; rejection?: undefined }
  | { status: 'rejected'; rejection: TxRejection };

export interface ReadyState {
  ready: boolean;
  /** Why the node is not ready; empty when ready. */
  reasons: string[];
}

export interface ApiBackend {
  readonly genesis: Genesis;
  readonly queries: LedgerQueries;
  /** Revocation data evidence records and receipts carry (config `tsa.crlFiles`); none when absent. */
  readonly revocation?: Revocation;
  submit(env: TxEnvelope): Promise<SubmitOutcome>;
  /** Submits several txs together (admitted in one round); outcomes in input order. */
  submitMany(envs: readonly TxEnvelope[]): Promise<SubmitOutcome[]>;
  /** Calls `listener` with the hashes of each committed block's txs; returns an unsubscribe function. */
  onCommit(listener: (txHashes: readonly Uint8Array[]) => void): () => void;
  status(): Promise<Record<string, unknown>>;
  ready(): ReadyState;
  metrics(): Promise<{ contentType: string; text: string }>;
  /** The node's case-key store (ADR 011), when its home has one. */
  readonly caseKeys?: CaseKeyLookup | undefined;
}

/** Longest `?wait=` a client may ask for. */
export const MAX_WAIT_MS = 60_000;
/** POST /v1/txs body limit: one tx, hex-encoded inside JSON at worst. */
export const MAX_TX_BODY_BYTES = 2 * Limits.txBytes + 1024;
/** Most txs in one POST /v1/txs/batch. */
export const MAX_BATCH_TXS = 1000;
/** POST /v1/txs/batch body limit. */
export const MAX_BATCH_BODY_BYTES = 4 * 1024 * 1024;
/** Content type of a binary tx list (`encodeTxList`): the body of POST /v1/txs/batch. */
export const TX_LIST_CONTENT_TYPE = 'application/vnd.jrchain.txs';

const HASH_ALG_BY_HEX_LENGTH = new Map<number, HashAlg>(
  Object.entries(HashAlgs).map(([name, a]) => [a.length * 2, name as HashAlg] as const),
);

function hashParam(s: string, what: string, lengths = [64]): Uint8Array {
  const b = tryFromHex(s);
  if (b === undefined || !lengths.includes(s.length)) {
    throw badRequest('BAD_HASH', `${what} must be ${lengths.map((l) => l / 2).join(', ')} bytes of hex`);
  }
  return b;
}

function contentType(req: ApiRequest): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function jsonBody(req: ApiRequest): unknown {
  try {
    return JSON.parse(Buffer.from(req.body).toString('utf8'));
  } catch {
    throw badRequest('BAD_JSON', 'body is not valid JSON');
  }
}

/** A tx given in JSON as hex or base64 canonical bytes (`what` names it in errors). */
function txBytesFromString(tx: string, what: string): Uint8Array {
  const hex = tryFromHex(tx);
  if (hex !== undefined) return hex;
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(tx) && tx.length % 4 === 0)
    return new Uint8Array(Buffer.from(tx, 'base64'));
  throw badRequest('BAD_JSON', `${what} must be hex or base64`);
}

function parseTxOrBadRequest(bytes: Uint8Array, what: string, suite: CryptoSuite): TxEnvelope {
  try {
    return parseTx(bytes, suite);
  } catch (err) {
    if (err instanceof CodecError) throw badRequest(err.code, `malformed ${what}: ${err.message}`);
    throw err;
  }
}

/** Decodes a POST /v1/txs body: raw canonical bytes, or JSON {"tx": base64 | hex}. */
function txFromBody(req: ApiRequest, suite: CryptoSuite): TxEnvelope {
  const type = contentType(req);
  let bytes: Uint8Array;
  if (type === 'application/octet-stream') {
    bytes = req.body;
  } else if (type === 'application/json') {
    const tx = (jsonBody(req) as { tx?: unknown } | null)?.tx;
    if (typeof tx !== 'string')
      throw badRequest('BAD_JSON', 'expected {"tx": "<hex or base64 canonical tx>"}');
    bytes = txBytesFromString(tx, 'tx');
  } else {
    throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send application/octet-stream or application/json');
  }
  return parseTxOrBadRequest(bytes, 'tx', suite);
}

/**
 * Decodes a POST /v1/txs/batch body: a binary tx list (TX_LIST_CONTENT_TYPE), or JSON {"txs": [hex | base64]}.
 * 1..MAX_BATCH_TXS txs; one malformed tx refuses the whole request (nothing is submitted).
 */
function txsFromBody(req: ApiRequest, suite: CryptoSuite): TxEnvelope[] {
  const type = contentType(req);
  if (type === TX_LIST_CONTENT_TYPE) {
    try {
      return decodeTxList(req.body, MAX_BATCH_TXS, 'tx batch', suite);
    } catch (err) {
      if (err instanceof CodecError) throw badRequest(err.code, `malformed tx batch: ${err.message}`);
      throw err;
    }
  }
  if (type !== 'application/json') {
    throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `send ${TX_LIST_CONTENT_TYPE} or application/json`);
  }
  const txs = (jsonBody(req) as { txs?: unknown } | null)?.txs;
  if (!Array.isArray(txs) || txs.length === 0 || txs.some((t) => typeof t !== 'string')) {
    throw badRequest(
      'BAD_JSON',
      'expected {"txs": ["<hex or base64 canonical tx>", ...]} with at least one tx',
    );
  }
  if (txs.length > MAX_BATCH_TXS) {
    throw badRequest('BATCH_TOO_LARGE', `${txs.length} txs in one batch; at most ${MAX_BATCH_TXS}`);
  }
  return (txs as string[]).map((t, i) =>
    parseTxOrBadRequest(txBytesFromString(t, `txs[${i}]`), `txs[${i}]`, suite),
  );
}

function waitParam(q: URLSearchParams): number {
  const w = q.get('wait');
  if (w === null || w === '' || w === 'false' || w === '0') return 0;
  if (w === 'true') return 30_000;
  if (!/^\d{1,6}$/.test(w) || Number(w) > MAX_WAIT_MS) {
    throw badRequest('BAD_WAIT', `wait must be true or milliseconds up to ${MAX_WAIT_MS}`);
  }
  return Number(w);
}

/** Resolves when `hash` is committed, or after `ms` / when the client leaves, whichever is first. */
function waitForCommit(b: ApiBackend, hash: Uint8Array, ms: number, signal: AbortSignal): Promise<boolean> {
  const hex = toHex(hash);
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const onAbort = () => finish(false);
    const timer = setTimeout(() => finish(false), ms);
    const unsubscribe = b.onCommit((hashes) => {
      if (hashes.some((h) => toHex(h) === hex)) finish(true);
    });
    signal.addEventListener('abort', onAbort);
    // It may have committed between submit and subscribing.
    b.queries.tx(hash).then(
      (t) => t !== undefined && finish(true),
      () => {},
    );
  });
}

/** Resolves once the ledger head reaches `height`, or after `ms` / when the client leaves, whichever is first. */
function waitForHeight(b: ApiBackend, height: number, ms: number, signal: AbortSignal): Promise<void> {
  if (b.queries.head().height >= height || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    const unsubscribe = b.onCommit(() => {
      if (b.queries.head().height >= height) finish();
    });
    signal.addEventListener('abort', finish);
  });
}

async function submitTx(b: ApiBackend, req: ApiRequest): Promise<ApiResponse> {
  const env = txFromBody(req, genesisSuite(b.genesis));
  const wait = waitParam(req.query);
  const outcome = await b.submit(env);
  if (outcome.status === 'rejected') {
    const { code, message } = outcome.rejection;
    const status = code === 'MEMPOOL_FULL' || code === 'NO_VALIDATOR_REACHABLE' ? 503 : 422;
    return { status, json: { code, message, hash: env.hashHex } };
  }
  let status: string = outcome.status;
  if (status !== 'committed' && wait > 0) {
    // After a wait that ends without the commit, the tx is known to be in flight: "pending".
    status = (await waitForCommit(b, env.hash, wait, req.signal)) ? 'committed' : 'pending';
  }
  if (status === 'committed') {
    const t = await b.queries.tx(env.hash);
    return { status: 200, json: { hash: env.hashHex, status, height: t?.height ?? null } };
  }
  return { status: 202, json: { hash: env.hashHex, status } };
}

async function submitTxs(b: ApiBackend, req: ApiRequest): Promise<ApiResponse> {
  if (req.query.has('wait')) {
    throw badRequest(
      'BAD_WAIT',
      'batch submit does not wait; follow GET /v1/txs/:hash or /v1/blocks/:height',
    );
  }
  const envs = txsFromBody(req, genesisSuite(b.genesis));
  const outcomes = await b.submitMany(envs);
  const results = envs.map((env, i) => {
    const o = outcomes[i]!;
    if (o.status !== 'rejected') return { hash: env.hashHex, status: o.status };
    return { hash: env.hashHex, status: 'rejected', code: o.rejection.code, message: o.rejection.message };
  });
  // Some txs refused for a full pool: the batch is answered (the others' outcomes stand) with the same hint to
  // back off as a single submit's 503.
  const full = outcomes.some((o) => o.status === 'rejected' && o.rejection.code === 'MEMPOOL_FULL');
  return {
    status: 200,
    json: { results },
    ...(full ? { headers: { 'retry-after': String(RETRY_AFTER_S) } } : {}),
  };
}

async function receipts(b: ApiBackend, hashHex: string): Promise<ApiResponse> {
  const alg = HASH_ALG_BY_HEX_LENGTH.get(hashHex.length);
  const hash = hashParam(hashHex, 'hash', [...HASH_ALG_BY_HEX_LENGTH.keys()]);
  // A tx hash first (sha256 length); otherwise an evidence hash with all its records.
  if (hashHex.length === 64) {
    const r = await ledgerCall(
      async () => (await b.queries.tx(hash)) && receiptFor(b.queries, b.genesis, hash, b.revocation),
    );
    if (r) return { json: { receipts: [r] } };
  }
  const out = [];
  let cursor: string | undefined;
  do {
    const page = await ledgerCall(() => b.queries.evidenceByHash(alg!, hash, { limit: 1000, cursor }));
    for (const e of page.items) {
      const r = await receiptFor(b.queries, b.genesis, e.env.hash, b.revocation);
      if (r) out.push(r);
    }
    cursor = page.next;
  } while (cursor !== undefined && out.length < 1000);
  if (out.length === 0) throw new ApiError(404, 'NOT_FOUND', `no evidence record or tx with hash ${hashHex}`);
  return { json: { receipts: out } };
}

/** The RFC 4998 evidence record of a tx, or of the first record of a SHA-256 evidence hash (ADR 012). */
async function evidenceRecords(b: ApiBackend, hashHex: string): Promise<ApiResponse> {
  const hash = hashParam(hashHex, 'hash', [64]);
  let r = await ledgerCall(() => evidenceRecordFor(b.queries, b.genesis, hash, b.revocation));
  if (r === undefined) {
    const page = await ledgerCall(() => b.queries.evidenceByHash('sha256', hash, { limit: 1 }));
    const first = page.items[0];
    if (first !== undefined)
      r = await ledgerCall(() => evidenceRecordFor(b.queries, b.genesis, first.env.hash, b.revocation));
  }
  if (r === undefined) throw new ApiError(404, 'NOT_FOUND', `no evidence record or tx with hash ${hashHex}`);
  return { json: { txHash: r.txHash, height: r.height, ers: Buffer.from(r.ers).toString('base64') } };
}

export interface ApiSecurity {
  /** The clock signed requests are judged by (ms since the epoch). */
  now?: () => number;
  /** Where authorised case reads are recorded; a log in memory when absent. */
  audit?: AuditLog;
}

/** The guard over the registry in force at the head (keys revoked by governance stop working at once). */
export function accessGuard(b: ApiBackend, s: ApiSecurity = {}): AccessGuard {
  const registry = () => {
    const gov = b.queries.governance();
    return registryOf(gov.clientKeys(), (i) => gov.roleOf(i));
  };
  const auth = new Authenticator(registry, { now: s.now ?? Date.now, suite: genesisSuite(b.genesis) });
  const granted = (i: string) => b.queries.governance().hasAuditAccess(i);
  return new AccessGuard(auth, s.audit ?? new AuditLog(undefined, s.now), granted);
}

/** Pages the node's wiring supplies (see verifier-page.ts). */
export interface ApiPages {
  verifierPage?: VerifierPageSource;
}

export function apiRoutes(b: ApiBackend, security: ApiSecurity = {}, pages: ApiPages = {}): Route[] {
  const g = accessGuard(b, security);
  return [
    { method: 'POST', path: '/v1/txs', handler: (req) => submitTx(b, req) },
    {
      method: 'POST',
      path: '/v1/txs/batch',
      handler: (req) => submitTxs(b, req),
      maxBodyBytes: MAX_BATCH_BODY_BYTES,
    },
    {
      method: 'GET',
      path: '/v1/txs/:hash',
      handler: async (req) => {
        g.chainReader(req);
        const t = await b.queries.tx(hashParam(req.params.hash!, 'tx hash'));
        if (t === undefined) throw new ApiError(404, 'NOT_FOUND', `tx ${req.params.hash} is not committed`);
        return { json: txView(t, genesisSuite(b.genesis)) };
      },
    },
    {
      method: 'GET',
      path: '/v1/evidence/:hash',
      handler: async (req) => {
        const hex = req.params.hash!.toLowerCase();
        const hash = hashParam(hex, 'evidence hash', [...HASH_ALG_BY_HEX_LENGTH.keys()]);
        const alg = HASH_ALG_BY_HEX_LENGTH.get(hex.length)!;
        const page = await ledgerCall(() => b.queries.evidenceByHash(alg, hash, pageParams(req.query)));
        return {
          json: { hashAlg: alg, hash: hex, records: page.items.map(recordView), next: page.next ?? null },
        };
      },
    },
    ...caseRoutes(b, g),
    {
      method: 'GET',
      path: '/v1/blocks/:height',
      handler: async (req) => {
        g.chainReader(req);
        const h = req.params.height!;
        if (!/^\d{1,15}$/.test(h) || Number(h) < 1)
          throw badRequest('BAD_HEIGHT', 'height must be an integer >= 1');
        const wait = waitParam(req.query);
        if (wait > 0) await waitForHeight(b, Number(h), wait, req.signal);
        const block = await b.queries.block(Number(h));
        if (block === undefined) throw new ApiError(404, 'NOT_FOUND', `no block at height ${h}`);
        return { json: blockView(block, b.queries.governance().epochAt(block.header.height).set) };
      },
    },
    {
      method: 'GET',
      path: '/v1/receipts/:hash',
      handler: (req) => receipts(b, req.params.hash!.toLowerCase()),
    },
    {
      method: 'GET',
      path: '/v1/evidence-records/:hash',
      handler: (req) => evidenceRecords(b, req.params.hash!.toLowerCase()),
    },
    { method: 'GET', path: '/v1/status', handler: async () => ({ json: await b.status() }) },
    {
      // Public (docs/api.md): a node's committed audit head is a count and an opaque hash, and whoever a node
      // served must be able to check it against that node's log without an account on this one (ADR 015).
      method: 'GET',
      path: '/v1/audit-heads/:institution',
      handler: async (req) => {
        const institution = req.params.institution!;
        if (!ID_PATTERN.test(institution)) throw badRequest('BAD_INSTITUTION', 'institution id is malformed');
        const t = await b.queries.auditHead(institution);
        if (t === undefined) return { json: { institution, committed: null } };
        const committed = {
          ...auditHeadView(decodeAuditHead(t.env.tx.payload)),
          txHash: t.env.hashHex,
          height: t.height,
          blockTime: new Date(t.blockTime).toISOString(),
        };
        return { json: { institution, committed } };
      },
    },
    {
      method: 'GET',
      path: '/v1/governance',
      handler: () => {
        const head = b.queries.head();
        // Expiry is judged at block times: a pending proposal reads as expired once the head's time is past
        // its deadline (clients may compare the deadline with their own clock for a quiet chain).
        return { json: governanceView(b.queries.governance(), head.height + 1, head.time, b.genesis) };
      },
    },
    {
      method: 'GET',
      path: '/v1/genesis',
      handler: () => ({
        json: { genesisHash: toHex(genesisHash(b.genesis)), genesis: genesisToJson(b.genesis) },
      }),
    },
    { method: 'GET', path: '/health', handler: () => ({ json: { status: 'ok' } }) },
    {
      method: 'GET',
      path: '/ready',
      handler: () => {
        const r = b.ready();
        return { status: r.ready ? 200 : 503, json: r };
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      handler: async () => {
        const m = await b.metrics();
        return { text: m.text, contentType: m.contentType };
      },
    },
    ...operatorPageRoutes(),
    ...verifierPageRoutes(pages.verifierPage),
  ];
}
