/**
 * Institution-side dispute-case commands (docs/cases.md): each records one case event in a tx signed with the
 * institution's client key. Re-running is safe: the nonce derives from the institution and the event, so the
 * same event is never recorded twice. Document hashes (agreement, minutes, ruling) are taken from files hashed
 * locally, or given in hex; documents never leave this machine.
 */

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fromHex, toHex, tryFromHex, utf8 } from '../core/bytes.ts';
import {
  agreementSigningBody,
  type CaseEvent,
  type CaseRecord,
  type CoSignature,
  claimantCommitment,
  Decisions,
  encodeCase,
  FailReasons,
  MilestoneKinds,
  validateCase,
} from '../core/case.ts';
import { Domain, sha256 } from '../core/crypto.ts';
import { cryptoSuite } from '../core/crypto-suite.ts';
import { envelope, signTx, type TxEnvelope } from '../core/tx.ts';
import {
  CASE_KEYS_OPTION,
  caseStoreFor,
  newStoredCase,
  sealedClaimant,
  sealRecord,
  storedCase,
  storedCaseFor,
} from './case-sealing.ts';
import { ApiClient, nodeUrl, toError } from './client.ts';
import { type Identity, resolveIdentity, send } from './evidence.ts';
import { hashFile } from './files.ts';
import { type CliIo, emit, parsePositiveInt, UsageError } from './io.ts';

const TX_TTL_MS = 10 * 60 * 1000;

interface CommonOptions {
  key: string;
  caseKeys?: string;
  note?: string;
  institution?: string;
  keyId?: string;
  node?: string;
  json?: boolean;
  wait?: boolean;
}

/**
 * Same (institution, case, event) → same nonce: a re-run is refused as a replay, never recorded twice. The
 * link to the previous event is left out (zeros), since a re-run after the commit would name a later one.
 */
export function caseNonce(institution: string, r: CaseRecord): number {
  const unlinked = encodeCase(r.event.type === 'open' ? r : { ...r, prev: new Uint8Array(32) });
  const d = sha256(utf8.encode(`jrchain/case-nonce/v1\0${institution}\0`), unlinked);
  return Number(BigInt(`0x${toHex(d.subarray(0, 7))}`) & ((1n << 53n) - 1n));
}

export function caseTx(id: Identity, record: CaseRecord, now = Date.now()): TxEnvelope {
  const payload = encodeCase(record);
  return envelope(
    signTx(
      {
        chainId: id.chainId,
        type: 'case',
        institution: id.institution,
        keyId: id.keyId,
        nonce: caseNonce(id.institution, record),
        createdAt: now,
        ttlMs: TX_TTL_MS,
        payload,
      },
      id.key.signer,
    ),
    cryptoSuite(id.key.suite),
  );
}

/** A document hash: 64 hex digits, or a file hashed locally with SHA-256. */
async function documentHash(arg: string, what: string): Promise<Uint8Array> {
  const hex = tryFromHex(arg);
  if (hex !== undefined && hex.length === 32) return hex;
  try {
    return (await hashFile(arg)).hash;
  } catch {
    throw new UsageError(`${what} must be a SHA-256 digest in hex or a readable file: ${arg}`);
  }
}

/** The event, checked before touching the network; `prev` is filled in from the node when submitting. */
function record(caseId: string, event: CaseEvent): CaseRecord {
  const r = { caseId, event };
  try {
    validateCase(event.type === 'open' ? r : { ...r, prev: new Uint8Array(32) });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return r;
}

/**
 * The tx hash of the case's last event, which the new event must name. An unknown case gets zeros: the chain
 * then refuses the event with TX_CASE_UNKNOWN, the clearer answer.
 */
async function lastEventOf(client: ApiClient, caseId: string): Promise<Uint8Array> {
  const r = await client.get<{ case: { timeline: { txHash: string }[] } | null }>(
    `/v1/cases/${encodeURIComponent(caseId)}?limit=1`,
  );
  const last = r.body.case?.timeline.at(-1)?.txHash;
  return last === undefined ? new Uint8Array(32) : fromHex(last);
}

/** Signs and submits one event; prints where it landed or why the chain refused it. */
export interface RecordedEvent {
  record: CaseRecord;
  txHash: string;
  /** `committed`, `pending` or `accepted` from the node, or `already-recorded` on a re-run. */
  status: string;
  height: number | null;
}

/**
 * Links `event` to the case's last event (read from the node), signs it as `id` and submits it. Throws the
 * node's refusal (its TX_* code) as an ApiClientError.
 */
export async function recordCaseEvent(
  client: ApiClient,
  id: Identity,
  event: CaseRecord,
  wait: boolean,
): Promise<RecordedEvent> {
  const r = event.event.type === 'open' ? event : { ...event, prev: await lastEventOf(client, event.caseId) };
  const env = caseTx(id, r);
  const res = await send(client, env, wait);
  const body = res.body as { status?: string; height?: number | null; code?: string };
  if (res.status === 200 || res.status === 202)
    return { record: r, txHash: env.hashHex, status: body.status ?? 'accepted', height: body.height ?? null };
  if (body.code === 'TX_REPLAYED_NONCE' || body.code === 'TX_DUPLICATE')
    return { record: r, txHash: env.hashHex, status: 'already-recorded', height: null };
  throw toError(res);
}

/**
 * The record to sign: with a case-key store, its sealed form (a new case's key is drawn and stored first); the
 * claimant commitment of a sealed open is keyed by the case key (`claimantRef`).
 */
async function toSubmit(
  client: ApiClient,
  id: Identity,
  opts: CommonOptions,
  event: CaseRecord,
  claimantRef?: string,
): Promise<{ record: CaseRecord; extra: Record<string, string> }> {
  const e = event.event;
  const required = id.sealingRequired === true;
  const s = caseStoreFor(opts, opts.key, required);
  // Sealed: with a named store, on a chain that requires it, or a case the default store already holds.
  const sealed = s !== undefined && (s.named || required || s.store.byCaseId(event.caseId) !== undefined);
  if (!sealed) {
    if (opts.note !== undefined) throw new UsageError('--note needs a sealed case (a case-key store)');
    return { record: event, extra: {} };
  }
  const store = s.store;
  const c = e.type === 'open' ? newStoredCase(store, event.caseId) : storedCase(store, event.caseId);
  const plain =
    e.type === 'open' && claimantRef !== undefined
      ? { ...event, event: { ...e, claimant: sealedClaimant(c, claimantRef) } }
      : event;
  const record = await sealRecord(client, id.institution, c, plain, opts.note);
  const extra: Record<string, string> = { ref: c.ref };
  if (record.event.type === 'open') extra.claimantCommitment = toHex(record.event.claimant);
  return { record, extra };
}

async function submitEvent(
  io: CliIo,
  opts: CommonOptions,
  event: CaseRecord,
  extra: Record<string, string> = {},
  claimantRef?: string,
): Promise<void> {
  const client = new ApiClient(nodeUrl(opts.node));
  const id = await resolveIdentity(client, opts.key, opts.institution, opts.keyId);
  const sealed = await toSubmit(client, id, opts, event, claimantRef);
  if (sealed.extra.ref !== undefined) {
    delete extra.salt;
    Object.assign(extra, sealed.extra);
  }
  const done = await recordCaseEvent(client, id, sealed.record, opts.wait === true);
  const { record: _linked, ...fields } = done;
  const out = { caseId: event.caseId, event: event.event.type, ...fields, ...extra };
  emit(io, opts.json === true, out, () => {
    const where = done.height ? ` at height ${done.height}` : '';
    const lines = Object.entries(extra).map(([k, v]) => `  ${k}: ${String(v)}\n`);
    return `${event.event.type} of case ${event.caseId}: ${done.status}${where}, tx ${done.txHash}\n${lines.join('')}`;
  });
}

function withCommon(cmd: Command): Command {
  return cmd
    .requiredOption('--key <file>', 'institution client key file')
    .option('--institution <id>', 'institution id (default: looked up from the key)')
    .option('--key-id <id>', 'key id (default: looked up from the key)')
    .option(
      '--no-wait',
      "return once a node accepted the event, before it commits (the case's next event needs it committed)",
    )
    .option('--node <url>', 'node API URL (default: $JRCHAIN_NODE or http://127.0.0.1:8100)')
    .option(...CASE_KEYS_OPTION)
    .option('--note <text>', 'a note sealed under the case key (with --case-keys only)')
    .option('--json', 'print machine-readable JSON');
}

function oneOf<T extends string>(table: Record<T, number>, v: string, flag: string): T {
  if (!Object.hasOwn(table, v))
    throw new UsageError(`${flag} must be one of: ${Object.keys(table).join(', ')}`);
  return v as T;
}

/** The claimant commitment from --claimant-commitment, or from --claimant-ref with --salt (or a fresh salt). */
function claimantOf(opts: { claimantRef?: string; salt?: string; claimantCommitment?: string }): {
  claimant: Uint8Array;
  salt?: string;
} {
  if ((opts.claimantRef === undefined) === (opts.claimantCommitment === undefined))
    throw new UsageError('give --claimant-ref (with optional --salt) or --claimant-commitment, not both');
  if (opts.claimantCommitment !== undefined) {
    const c = tryFromHex(opts.claimantCommitment);
    if (c === undefined || c.length !== 32)
      throw new UsageError('--claimant-commitment must be 32 bytes of hex');
    return { claimant: c };
  }
  const salt = opts.salt === undefined ? new Uint8Array(randomBytes(16)) : tryFromHex(opts.salt);
  if (salt === undefined || salt.length < 16) throw new UsageError('--salt must be at least 16 bytes of hex');
  return { claimant: claimantCommitment(salt, opts.claimantRef!), salt: toHex(salt) };
}

function registerOpenAssign(c: Command, io: CliIo): void {
  withCommon(
    c
      .command('open')
      .description(
        'open a dispute case against a respondent bank (by the bank itself or a mediation organisation).\n' +
          'The claimant is recorded only as a salted commitment: keep the printed salt to open it later.',
      )
      .argument('<case-id>', 'case reference, e.g. 2026-BJ-CC-000123')
      .requiredOption('--respondent <bank>', 'the respondent bank institution id')
      .option('--claimant-ref <ref>', 'claimant reference (e.g. ID number); never sent, only committed to')
      .option('--salt <hex>', 'salt for the commitment, at least 16 bytes (default: random)')
      .option('--claimant-commitment <hex>', 'a commitment computed elsewhere (32 bytes of hex)'),
  ).action(
    async (
      caseId: string,
      o: CommonOptions & { respondent: string; claimantRef?: string; salt?: string },
    ) => {
      const { claimant, salt } = claimantOf(o);
      const extra = { claimantCommitment: toHex(claimant), ...(salt ? { salt } : {}) };
      const r = record(caseId, { type: 'open', respondent: o.respondent, claimant });
      await submitEvent(io, o, r, extra, o.claimantRef);
    },
  );
  withCommon(
    c
      .command('assign')
      .description('assign a case to a mediation organisation (the respondent bank, or the mediator itself)')
      .argument('<case-id>')
      .requiredOption('--mediator <id>', 'the mediation organisation institution id'),
  ).action((caseId: string, o: CommonOptions & { mediator: string }) =>
    submitEvent(io, o, record(caseId, { type: 'assign', mediator: o.mediator })),
  );
}

function registerMediation(c: Command, io: CliIo): void {
  withCommon(
    c
      .command('session')
      .description('record mediation session number --seq (1, 2, ... in order), by the mediator')
      .argument('<case-id>')
      .requiredOption('--seq <n>', 'session number', parsePositiveInt)
      .option('--minutes <file-or-hex>', 'the minutes document (hashed locally)'),
  ).action(async (caseId: string, o: CommonOptions & { seq: number; minutes?: string }) => {
    const minutesHash = o.minutes === undefined ? undefined : await documentHash(o.minutes, '--minutes');
    await submitEvent(io, o, record(caseId, { type: 'session', seq: o.seq, minutesHash }));
  });
  withCommon(
    c
      .command('agree')
      .description(
        'record the agreement, signed by this institution and co-signed by the other party (mediator or\n' +
          'respondent bank): the other party runs `jrchain case co-sign` and hands over its JSON file',
      )
      .argument('<case-id>')
      .requiredOption('--agreement <file-or-hex>', 'the agreement document (hashed locally)')
      .option('--co-signature <file>', "the other party's co-signature file (from case co-sign)"),
  ).action(async (caseId: string, o: CommonOptions & { agreement: string; coSignature?: string }) => {
    const agreementHash = await documentHash(o.agreement, '--agreement');
    const coSignature = o.coSignature === undefined ? undefined : readCoSignature(o.coSignature);
    await submitEvent(io, o, record(caseId, { type: 'agree', agreementHash, coSignature }));
  });
  c.command('co-sign')
    .description("co-sign an agreement for the other party's agree tx; writes a JSON co-signature file")
    .argument('<case-id>')
    .requiredOption('--agreement <file-or-hex>', 'the agreement document (hashed locally)')
    .requiredOption('--key <file>', 'institution client key file')
    .option('--institution <id>', 'institution id (default: looked up from the key)')
    .option('--key-id <id>', 'key id (default: looked up from the key)')
    .option('--node <url>', 'node API URL (default: $JRCHAIN_NODE or http://127.0.0.1:8100)')
    .option(...CASE_KEYS_OPTION)
    .action(async (caseId: string, o: CommonOptions & { agreement: string }) => {
      const agreementHash = await documentHash(o.agreement, '--agreement');
      const id = await resolveIdentity(new ApiClient(nodeUrl(o.node)), o.key, o.institution, o.keyId);
      // A sealed case is named by its reference on the chain, and so in what both parties sign.
      const onChain = storedCaseFor(caseStoreFor(o, o.key, false), caseId)?.ref ?? caseId;
      const body = agreementSigningBody(id.chainId, onChain, agreementHash);
      const signature = id.key.signer.sign(Domain.caseAgreement, body);
      const out = { institution: id.institution, keyId: id.keyId, signature: toHex(signature) };
      io.out(`${JSON.stringify(out, null, 2)}\n`);
    });
}

function readCoSignature(file: string): CoSignature {
  try {
    const j = JSON.parse(readFileSync(file, 'utf8')) as {
      institution: string;
      keyId: string;
      signature: string;
    };
    return { institution: j.institution, keyId: j.keyId, signature: fromHex(j.signature) };
  } catch (err) {
    throw new UsageError(`--co-signature ${file} is not a co-signature file: ${(err as Error).message}`);
  }
}

function registerOutcomes(c: Command, io: CliIo): void {
  withCommon(
    c
      .command('fail')
      .description('record that mediation failed, by the mediator')
      .argument('<case-id>')
      .requiredOption('--reason <reason>', `one of: ${Object.keys(FailReasons).join(', ')}`),
  ).action((caseId: string, o: CommonOptions & { reason: string }) =>
    submitEvent(io, o, record(caseId, { type: 'fail', reason: oneOf(FailReasons, o.reason, '--reason') })),
  );
  withCommon(
    c.command('withdraw').description('record that the complaint was withdrawn').argument('<case-id>'),
  ).action((caseId: string, o: CommonOptions) => submitEvent(io, o, record(caseId, { type: 'withdraw' })));
  withCommon(
    c
      .command('apply-confirmation')
      .description('record the application for judicial confirmation of the agreement at a court')
      .argument('<case-id>')
      .requiredOption('--court <id>', 'the court institution id'),
  ).action((caseId: string, o: CommonOptions & { court: string }) =>
    submitEvent(io, o, record(caseId, { type: 'applyConfirmation', court: o.court })),
  );
  withCommon(
    c
      .command('confirm')
      .description("record the court's decision (confirmed, or refused with --refuse); only the court may")
      .argument('<case-id>')
      .requiredOption('--ruling <file-or-hex>', 'the ruling document (hashed locally)')
      .option('--refuse', 'the court refused to confirm the agreement'),
  ).action(async (caseId: string, o: CommonOptions & { ruling: string; refuse?: boolean }) => {
    const rulingHash = await documentHash(o.ruling, '--ruling');
    const decision = o.refuse ? 'refused' : 'confirmed';
    await submitEvent(
      io,
      o,
      record(caseId, { type: 'decide', decision: oneOf(Decisions, decision, ''), rulingHash }),
    );
  });
  withCommon(
    c
      .command('milestone')
      .description('record performance milestone --seq (1, 2, ... in order) of an agreed case')
      .argument('<case-id>')
      .requiredOption('--seq <n>', 'milestone number', parsePositiveInt)
      .requiredOption('--kind <kind>', `one of: ${Object.keys(MilestoneKinds).join(', ')}`)
      .option('--document <file-or-hex>', 'a supporting document (hashed locally)'),
  ).action(async (caseId: string, o: CommonOptions & { seq: number; kind: string; document?: string }) => {
    const documentHash_ = o.document === undefined ? undefined : await documentHash(o.document, '--document');
    const kind = oneOf(MilestoneKinds, o.kind, '--kind');
    await submitEvent(
      io,
      o,
      record(caseId, { type: 'milestone', seq: o.seq, kind, documentHash: documentHash_ }),
    );
  });
  withCommon(c.command('close').description('close a case').argument('<case-id>')).action(
    (caseId: string, o: CommonOptions) => submitEvent(io, o, record(caseId, { type: 'close' })),
  );
}

/** `jrchain case <event>`: the commands that record case events. */
export function registerCaseEventCommands(c: Command, io: CliIo): void {
  registerOpenAssign(c, io);
  registerMediation(c, io);
  registerOutcomes(c, io);
}
