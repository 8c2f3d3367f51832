/**
 * Institution-side evidence commands. Files are hashed locally; only the hash and case metadata go to the
 * node, inside a tx signed with the institution's client key. Submission is retry-safe: the nonce is derived
 * from (institution, case, evidence), so a rerun can never record the same evidence twice.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { toHex, tryFromHex, utf8 } from '../core/bytes.ts';
import { isCaseRef, sealLabel } from '../core/case-seal.ts';
import { sha256 } from '../core/crypto.ts';
import { cryptoSuite } from '../core/crypto-suite.ts';
import { JrError } from '../core/errors.ts';
import {
  type EvidenceRecord,
  EvidenceTypes,
  encodeEvidence,
  type HashAlg,
  HashAlgs,
  isEvidenceType,
  validateEvidence,
} from '../core/evidence.ts';
import { type Genesis, genesisSuite, parseGenesis } from '../core/genesis.ts';
import { KeyErrorCode, KeyFileError, type KeyPair, readKeyFile } from '../core/keys.ts';
import { envelope, signTx, type TxEnvelope } from '../core/tx.ts';
import { HttpTsaClient } from '../timestamp/index.ts';
import {
  CASE_KEYS_ENV,
  CASE_KEYS_OPTION,
  caseStoreFor,
  defaultCaseKeysDir,
  storedCaseFor,
} from './case-sealing.ts';
import {
  ApiClient,
  ApiClientErrorCode,
  type ApiResult,
  nodeUrl,
  type RequestSigner,
  toError,
} from './client.ts';
import { expandInputs, hashFile, Progress } from './files.ts';
import { CliError, CliErrorCode, type CliIo, ExitCode, emit, UsageError } from './io.ts';
import { passphraseIfEncrypted } from './passphrase.ts';

/** How long a submitted tx stays valid; retries within it resend the same bytes. */
const TX_TTL_MS = 10 * 60 * 1000;

export interface Identity {
  /** A key of the chain's suite (checked against the genesis). */
  key: KeyPair;
  institution: string;
  keyId: string;
  chainId: string;
  /** The chain's genesis requires sealed cases (ADR 015). */
  sealingRequired?: boolean;
}

/** The genesis the node serves, for looking up our key. Offline verification never trusts it. */
export async function fetchGenesis(client: ApiClient): Promise<Genesis> {
  const r = await client.get<{ genesis: unknown }>('/v1/genesis');
  return parseGenesis(r.body.genesis);
}

/** Finds which institution and key id the key file is registered as, unless given explicitly. */
export async function resolveIdentity(
  client: ApiClient,
  keyFile: string,
  institution?: string,
  keyId?: string,
): Promise<Identity> {
  // An encrypted key file: JRCHAIN_KEY_PASSPHRASE, else a prompt on a terminal (passphrase.ts).
  const passphrase = await passphraseIfEncrypted(keyFile);
  const key = readKeyFile(keyFile, { suite: 'any', ...(passphrase === undefined ? {} : { passphrase }) });
  const genesis = await fetchGenesis(client);
  checkKeySuite(keyFile, key, genesis);
  const pub = toHex(key.publicKey);
  // The registry in force (ADR 006): the genesis institutions plus those and the keys governance added,
  // without revoked keys. A node that predates governance has no /v1/governance: use the genesis.
  const registry = await registryOf(client, genesis);
  for (const inst of registry) {
    for (const [id, hex] of Object.entries(inst.clientKeys)) {
      if (hex !== pub) continue;
      if ((institution ?? inst.id) !== inst.id || (keyId ?? id) !== id) continue;
      // From here on the client signs its requests as this key (case reads need it).
      client.signer = requestSigner(`${inst.id}/${id}`, key);
      const sealingRequired = genesis.cases.sealing === 'required';
      return { key, institution: inst.id, keyId: id, chainId: genesis.chainId, sealingRequired };
    }
  }
  throw new CliError(
    CliErrorCode.keyNotRegistered,
    `the key in ${keyFile} (${pub.slice(0, 16)}…) is not a client key of ${institution ?? 'any institution'} in this chain's registry`,
  );
}

/** A key of one suite cannot sign for a chain of the other (ADR 014): KEY_FILE_WRONG_SUITE, not "not registered". */
export function checkKeySuite(keyFile: string, key: KeyPair, genesis: Genesis): void {
  const suite = genesisSuite(genesis).name;
  if (key.suite !== suite)
    throw new KeyFileError(
      KeyErrorCode.wrongSuite,
      `key file ${keyFile} holds a ${key.suite} key; chain ${genesis.chainId} needs a ${suite} key`,
      { keySuite: key.suite, chainSuite: suite },
    );
}

/** Signs requests as `keyid` with `key`: its SM2 private key on an SM chain, else its Ed25519 seed. */
export function requestSigner(keyid: string, key: KeyPair): RequestSigner {
  const suite = cryptoSuite(key.suite);
  return { keyid, seed: key.privateKey ?? key.seed, suite };
}

async function registryOf(
  client: ApiClient,
  genesis: Genesis,
): Promise<{ id: string; clientKeys: Record<string, string> }[]> {
  const r = await client.request<{ institutions?: { id: string; clientKeys: Record<string, string> }[] }>(
    'GET',
    '/v1/governance',
  );
  if (r.status === 200 && Array.isArray(r.body.institutions)) return r.body.institutions;
  return genesis.institutions.map((i) => ({
    id: i.id,
    clientKeys: Object.fromEntries(i.clientKeys.map((k) => [k.keyId, toHex(k.publicKey)])),
  }));
}

/** Same (institution, case, type, evidence hash) → same nonce, so re-running a submission cannot double-record. */
export function evidenceNonce(
  institution: string,
  e: Pick<EvidenceRecord, 'caseId' | 'evidenceType' | 'hashAlg' | 'hash'>,
): number {
  const d = sha256(
    utf8.encode(`jrchain/evidence-nonce/v1\0${institution}\0${e.caseId}\0${e.evidenceType}\0${e.hashAlg}\0`),
    e.hash,
  );
  // 53 bits: the largest integer a nonce can hold.
  return Number(BigInt(`0x${toHex(d.subarray(0, 7))}`) & ((1n << 53n) - 1n));
}

export function evidenceTx(id: Identity, e: EvidenceRecord, now = Date.now()): TxEnvelope {
  return envelope(
    signTx(
      {
        chainId: id.chainId,
        type: 'evidence',
        institution: id.institution,
        keyId: id.keyId,
        nonce: evidenceNonce(id.institution, e),
        createdAt: now,
        ttlMs: TX_TTL_MS,
        payload: encodeEvidence(e),
      },
      id.key.signer,
    ),
    cryptoSuite(id.key.suite),
  );
}

interface RecordJson {
  txHash: string;
  institution: string;
  height: number;
  blockTime: string;
  evidence: { caseId: string; evidenceType: string; hash: string; hashAlg: string; label?: string };
}

export type SubmitState = 'recorded' | 'submitted' | 'already-recorded' | 'failed';
export interface SubmitReport {
  file?: string;
  hashAlg: HashAlg;
  hash: string;
  state: SubmitState;
  txHash?: string;
  height?: number;
  error?: { code: string; message: string };
}

async function existingRecord(
  client: ApiClient,
  id: Identity,
  e: EvidenceRecord,
): Promise<RecordJson | undefined> {
  const r = await client.get<{ records: RecordJson[] }>(`/v1/evidence/${toHex(e.hash)}?limit=1000`);
  return r.body.records.find(
    (x) =>
      x.institution === id.institution &&
      x.evidence.caseId === e.caseId &&
      x.evidence.evidenceType === e.evidenceType,
  );
}

/** Sends one tx, resending the same bytes on network errors and overload (503) with backoff. */
export async function send(
  client: ApiClient,
  env: TxEnvelope,
  wait: boolean,
): Promise<ApiResult<Record<string, unknown>>> {
  const query = wait ? '?wait=30000' : '';
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await client.request<Record<string, unknown>>('POST', `/v1/txs${query}`, env.bytes, 45_000);
      if (r.status !== 503 || attempt >= 5) return r;
    } catch (err) {
      if (attempt >= 5 || !(err instanceof JrError) || err.code !== ApiClientErrorCode.unreachable) throw err;
    }
    await new Promise((res) => setTimeout(res, Math.min(8000, 250 * 2 ** attempt)));
  }
}

export async function submitEvidence(
  client: ApiClient,
  id: Identity,
  e: EvidenceRecord,
  opts: { wait: boolean },
): Promise<Omit<SubmitReport, 'file'>> {
  const base = { hashAlg: e.hashAlg, hash: toHex(e.hash) };
  const prior = await existingRecord(client, id, e);
  if (prior) return { ...base, state: 'already-recorded', txHash: prior.txHash, height: prior.height };
  const env = evidenceTx(id, e);
  const r = await send(client, env, opts.wait);
  const body = r.body as { status?: string; height?: number; code?: string };
  if (r.status === 200 && body.status === 'committed') {
    return {
      ...base,
      state: 'recorded',
      txHash: env.hashHex,
      ...(body.height ? { height: body.height } : {}),
    };
  }
  if (r.status === 202) return { ...base, state: 'submitted', txHash: env.hashHex };
  if (r.status === 422 && (body.code === 'TX_REPLAYED_NONCE' || body.code === 'TX_DUPLICATE')) {
    // Our deterministic nonce is taken: this evidence is already recorded (or racing in from an earlier run).
    const again = await existingRecord(client, id, e);
    return {
      ...base,
      state: 'already-recorded',
      ...(again ? { txHash: again.txHash, height: again.height } : {}),
    };
  }
  const err = toError(r);
  return { ...base, state: 'failed', txHash: env.hashHex, error: { code: err.code, message: err.message } };
}

function hashArg(hex: string): { hashAlg: HashAlg; hash: Uint8Array } {
  const bytes = tryFromHex(hex);
  const alg = (Object.keys(HashAlgs) as HashAlg[]).find((a) => HashAlgs[a].length * 2 === hex.length);
  if (bytes === undefined || alg === undefined) {
    throw new UsageError('--hash must be a SHA-256, SHA-384 or SHA-512 digest in hex');
  }
  return { hashAlg: alg, hash: bytes };
}

const STATE_TEXT: Record<SubmitState, string> = {
  recorded: 'recorded',
  submitted: 'submitted (not yet committed)',
  'already-recorded': 'already recorded',
  failed: 'FAILED',
};

export function registerEvidenceCommands(program: Command, io: CliIo): void {
  const evidence = program.command('evidence').description('record, look up and verify evidence');

  evidence
    .command('submit')
    .description(
      'record evidence: hashes each file locally (content never leaves this machine) and submits the hash\n' +
        'with case metadata, signed by the institution client key. Accepts files and directories. Safe to\n' +
        're-run: evidence already recorded by this institution for this case is never recorded twice.',
    )
    .argument('[files...]', 'evidence files or directories')
    .option('--hash <hex>', 'submit this digest instead of hashing a file')
    .requiredOption('--case <id>', 'dispute case reference, e.g. 2026-BJ-CC-000123')
    .requiredOption('--type <type>', `evidence type: ${EvidenceTypes.join(', ')}`)
    .option('--label <text>', 'short label (no personal data)')
    .option('--media-type <type>', 'media type of the document, e.g. application/pdf')
    .option('--stamp', 'obtain an RFC 3161 token over each hash from --tsa and attach it')
    .option('--tsa <url>', 'TSA URL for --stamp (default: $JRCHAIN_TSA_URL)')
    .option('--wait', 'wait until each record is committed')
    .requiredOption('--key <file>', 'institution client key file')
    .option('--institution <id>', 'institution id (default: looked up from the key in the genesis)')
    .option('--key-id <id>', 'key id (default: looked up from the key in the genesis)')
    .option('--node <url>', 'node API URL (default: $JRCHAIN_NODE or http://127.0.0.1:8100)')
    .option(...CASE_KEYS_OPTION)
    .option('--json', 'print machine-readable JSON')
    .action((files: string[], opts: SubmitOptions) => submitCommand(files, opts, io));
}

interface SubmitOptions {
  hash?: string;
  case: string;
  type: string;
  label?: string;
  mediaType?: string;
  stamp?: boolean;
  tsa?: string;
  wait?: boolean;
  key: string;
  institution?: string;
  keyId?: string;
  node?: string;
  caseKeys?: string;
  json?: boolean;
}

type EvidenceBase = Pick<EvidenceRecord, 'caseId' | 'evidenceType' | 'label' | 'mediaType'>;

/** The flags checked before touching the network, so a bad flag costs nothing; the metadata they give. */
function submitBase(files: string[], opts: SubmitOptions): EvidenceBase {
  if (!isEvidenceType(opts.type)) throw new UsageError(`--type must be one of: ${EvidenceTypes.join(', ')}`);
  if ((opts.hash === undefined) === (files.length === 0)) {
    throw new UsageError('give evidence files or --hash, not both and not neither');
  }
  if (opts.stamp && (opts.tsa ?? process.env.JRCHAIN_TSA_URL) === undefined) {
    throw new UsageError('--stamp needs --tsa URL (or $JRCHAIN_TSA_URL)');
  }
  const base = {
    caseId: opts.case,
    evidenceType: opts.type,
    ...(opts.label !== undefined ? { label: opts.label } : {}),
    ...(opts.mediaType !== undefined ? { mediaType: opts.mediaType } : {}),
  };
  // With a case-key store the label may be sealed, and sealed it may hold what clear text may not: it is then
  // checked once the store was opened (sealBase); without one, here, before the network.
  const mayBeSealed =
    opts.caseKeys !== undefined || process.env[CASE_KEYS_ENV] || existsSync(defaultCaseKeysDir(opts.key));
  const { label: _label, ...unlabelled } = base;
  checkBase(mayBeSealed ? unlabelled : base);
  return base;
}

function checkBase(base: EvidenceBase): void {
  try {
    validateEvidence({ ...base, hashAlg: 'sha256', hash: new Uint8Array(32) });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * A sealed case's evidence names its reference, and its label is sealed under the case key (ADR 011); the
 * store (named, or the default beside the key file) seals the evidence of every case it holds. After
 * resolveIdentity, which read the passphrase an encrypted store shares with the key file.
 */
function sealBase(base: EvidenceBase, opts: SubmitOptions, id: Identity, io: CliIo): EvidenceBase {
  const c = storedCaseFor(caseStoreFor(opts, opts.key, false), opts.case);
  if (c === undefined) {
    if (id.sealingRequired === true && !isCaseRef(opts.case))
      io.err(
        `warning: case ${opts.case} is not in the case-key store, so this evidence names it in clear (a sealed case: run \`jrchain case sync\` first)\n`,
      );
    checkBase(base);
    return base;
  }
  const sealed = {
    ...base,
    caseId: c.ref,
    ...(opts.label !== undefined ? { label: sealLabel(c.key, c.ref, opts.label) } : {}),
  };
  checkBase(sealed);
  return sealed;
}

async function submitCommand(files: string[], opts: SubmitOptions, io: CliIo): Promise<void> {
  const unsealed = submitBase(files, opts);
  const client = new ApiClient(nodeUrl(opts.node));
  const id = await resolveIdentity(client, opts.key, opts.institution, opts.keyId);
  const base = sealBase(unsealed, opts, id, io);
  const tsa = opts.stamp ? new HttpTsaClient({ url: (opts.tsa ?? process.env.JRCHAIN_TSA_URL)! }) : undefined;
  await tsa?.start();
  const inputs = opts.hash !== undefined ? [undefined] : expandInputs(files);
  const progress = new Progress(inputs.length);
  const reports: SubmitReport[] = [];
  try {
    for (const file of inputs) {
      const digest: { hashAlg: HashAlg; hash: Uint8Array; size?: number } =
        file === undefined ? hashArg(opts.hash!) : { hashAlg: 'sha256', ...(await hashFile(file)) };
      const record: EvidenceRecord = {
        ...base,
        hashAlg: digest.hashAlg,
        hash: digest.hash,
        ...(digest.size !== undefined ? { size: digest.size } : {}),
      };
      if (tsa) record.tsToken = (await tsa.stamp(record.hash, record.hashAlg)).token;
      const report = {
        ...(file !== undefined ? { file } : {}),
        ...(await submitEvidence(client, id, record, { wait: opts.wait === true })),
      };
      reports.push(report);
      progress.tick(file ?? report.hash);
      if (!opts.json) io.out(reportLine(report, file));
    }
  } finally {
    await tsa?.stop();
  }
  printSubmitted(io, id.institution, opts, reports);
}

function reportLine(report: SubmitReport, file: string | undefined): string {
  const where = report.height !== undefined ? ` at height ${report.height}` : '';
  const tx = report.txHash ? ` tx ${report.txHash}` : '';
  const why = report.error ? ` [${report.error.code}] ${report.error.message}` : '';
  return `${STATE_TEXT[report.state]}: ${file ?? ''} ${report.hashAlg}:${report.hash}${tx}${where}${why}\n`;
}

function printSubmitted(io: CliIo, institution: string, opts: SubmitOptions, reports: SubmitReport[]): void {
  const count = (s: SubmitState) => reports.filter((r) => r.state === s).length;
  const summary = {
    institution,
    caseId: opts.case,
    total: reports.length,
    recorded: count('recorded'),
    submitted: count('submitted'),
    alreadyRecorded: count('already-recorded'),
    failed: count('failed'),
  };
  emit(
    io,
    opts.json === true,
    { summary, results: reports },
    () =>
      `${summary.total} evidence: ${summary.recorded} recorded, ${summary.submitted} submitted, ` +
      `${summary.alreadyRecorded} already recorded, ${summary.failed} failed\n`,
  );
  if (summary.failed > 0) io.setExit(ExitCode.failed);
}

/** A hex digest argument, or a file to hash. */
export async function digestOf(arg: string): Promise<{ hashAlg: HashAlg; hash: Uint8Array; file?: string }> {
  const { existsSync } = await import('node:fs');
  if (!existsSync(arg) && /^[0-9a-fA-F]+$/.test(arg)) return hashArg(arg.toLowerCase());
  return { hashAlg: 'sha256', hash: (await hashFile(arg)).hash, file: arg };
}

export function registerEvidenceQueryCommands(evidence: Command, io: CliIo): void {
  evidence
    .command('show')
    .description('list every record of a piece of evidence (by hash, or by hashing a file locally)')
    .argument('<hash-or-file>', 'evidence digest in hex, or a file to hash')
    .option('--node <url>', 'node API URL (default: $JRCHAIN_NODE or http://127.0.0.1:8100)')
    .option('--json', 'print machine-readable JSON')
    .action(async (arg: string, opts: { node?: string; json?: boolean }) => {
      const d = await digestOf(arg);
      const client = new ApiClient(nodeUrl(opts.node));
      const r = await client.get<{ records: RecordJson[] }>(`/v1/evidence/${toHex(d.hash)}?limit=1000`);
      const records = r.body.records;
      emit(io, opts.json === true, { hashAlg: d.hashAlg, hash: toHex(d.hash), records }, () =>
        records.length === 0
          ? `no records of ${d.hashAlg}:${toHex(d.hash)}\n`
          : `${records.length} record(s) of ${d.hashAlg}:${toHex(d.hash)}\n` +
            records
              .map(
                (x) =>
                  `  ${x.blockTime}  height ${x.height}  ${x.institution}  case ${x.evidence.caseId}  ` +
                  `${x.evidence.evidenceType}${x.evidence.label ? ` "${x.evidence.label}"` : ''}  tx ${x.txHash}\n`,
              )
              .join(''),
      );
      if (records.length === 0) io.setExit(ExitCode.failed);
    });
}
