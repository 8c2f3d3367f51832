/** Read-only case commands: a case's state and timeline, the list of cases, case receipts, the statistics. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { isCaseRef, openLabel } from '../core/case-seal.ts';
import { loadGenesisFile } from '../core/genesis-file.ts';
import type { StoredCaseKey } from '../node/case-keys.ts';
import { HOME_FILES } from '../node/home.ts';
import { verifyCaseReceipt } from '../receipt/case-verify.ts';
import { registerCaseEventCommands } from './case.ts';
import { CASE_KEYS_OPTION, caseStoreFor, storedCaseFor } from './case-sealing.ts';
import { registerCaseKeyCommands } from './case-sync.ts';
import { ApiClient, nodeUrl } from './client.ts';
import { UsageError } from './errors.ts';
import { type Identity, resolveIdentity } from './evidence.ts';
import { type CliIo, ExitCode, emit, parsePositiveInt } from './io.ts';
import { readJsonFile } from './receipt.ts';

interface EvidenceRecordJson {
  txHash: string;
  institution: string;
  height: number;
  blockTime: string;
  evidence: { hashAlg: string; hash: string; evidenceType: string; label?: string };
}

interface CaseJson {
  caseId: string;
  status: string;
  parties: { opener: string; respondent: string; mediator: string | null; court: string | null };
  timeline: { event: string; institution: string; height: number; blockTime: string; txHash: string }[];
}

const NODE_OPTION = [
  '--node <url>',
  'node API URL (default: $JRCHAIN_NODE or http://127.0.0.1:8100)',
] as const;

/** Case data is read only by signed requests (docs/api.md#authentication). */
export const KEY_OPTION = [
  '--key <file>',
  'institution client key file that signs the request (default: $JRCHAIN_CLIENT_KEY)',
] as const;

export const HOME_OPTION = [
  '--home <dir>',
  "sign with this node home's client key (<dir>/client.key)",
] as const;

/** The client key file `--key`, `--home` or $JRCHAIN_CLIENT_KEY names. */
export function clientKeyFile(opts: { key?: string; home?: string }): string {
  if (opts.key !== undefined && opts.home !== undefined)
    throw new UsageError('give --key or --home, not both');
  const home = opts.home === undefined ? undefined : join(opts.home, HOME_FILES.clientKey);
  const key = opts.key ?? home ?? process.env.JRCHAIN_CLIENT_KEY;
  if (key === undefined)
    throw new UsageError(
      'reading case data needs --key <client key file> or --home <dir> (or $JRCHAIN_CLIENT_KEY)',
    );
  return key;
}

/** A client signing as the institution whose client key `--key`, `--home` or $JRCHAIN_CLIENT_KEY names. */
export async function signedClient(opts: { node?: string; key?: string; home?: string }): Promise<ApiClient> {
  return (await signedIdentity(opts)).client;
}

/** The same, with the identity it signs as (and whether the chain requires sealed cases). */
export async function signedIdentity(opts: {
  node?: string;
  key?: string;
  home?: string;
}): Promise<{ client: ApiClient; id: Identity }> {
  const client = new ApiClient(nodeUrl(opts.node));
  const id = await resolveIdentity(client, clientKeyFile(opts));
  return { client, id };
}

/**
 * The name of a case on the chain (ADR 015): a `k1:` reference as given, a case id through the case-key store
 * (`--case-keys`, $JRCHAIN_CASE_KEYS, or the default beside the client key), else the id itself (unsealed).
 */
export function caseNameOnChain(
  caseId: string,
  opts: { key?: string; home?: string; caseKeys?: string },
  sealingRequired = false,
): { name: string; sealed?: StoredCaseKey } {
  const s = caseStoreFor(opts, clientKeyFile(opts), false);
  const sealed = storedCaseFor(s, caseId);
  if (sealed !== undefined) return { name: sealed.ref, sealed };
  // On a chain that requires sealing no case goes by its id in clear: the store is missing the key.
  if (sealingRequired && !isCaseRef(caseId))
    throw new UsageError(
      `no key for case ${caseId} in ${s?.store.dir ?? 'a case-key store'}: run \`jrchain case sync\` to import the cases wrapped for this institution, or give its k1: reference`,
    );
  return { name: caseId };
}

async function showCase(
  io: CliIo,
  caseId: string,
  opts: { node?: string; key?: string; home?: string; json?: boolean; caseKeys?: string },
): Promise<void> {
  const { client, id } = await signedIdentity(opts);
  // A sealed case: asked for by its reference; its labels are opened here, with the stored case key.
  const { sealed } = caseNameOnChain(caseId, opts, id.sealingRequired);
  const records: EvidenceRecordJson[] = [];
  let state: CaseJson | null = null;
  let cursor: string | null = null;
  do {
    const q: string = `?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await client.get<{
      case?: CaseJson | null;
      records: EvidenceRecordJson[];
      next: string | null;
    }>(`/v1/cases/${encodeURIComponent(sealed?.ref ?? caseId)}${q}`);
    state ??= r.body.case ?? null;
    records.push(...r.body.records);
    cursor = r.body.next;
  } while (cursor);
  if (sealed !== undefined)
    for (const x of records) {
      const label = x.evidence.label && openLabel(sealed.key, sealed.ref, x.evidence.label);
      if (label) x.evidence.label = label;
    }
  const ref = sealed === undefined ? {} : { ref: sealed.ref };
  emit(io, opts.json === true, { caseId, ...ref, case: state, records }, () =>
    caseText(caseId, state, records),
  );
  if (state === null && records.length === 0) io.setExit(ExitCode.failed);
}

function caseText(caseId: string, state: CaseJson | null, records: EvidenceRecordJson[]): string {
  let out = '';
  if (state !== null) {
    const p = state.parties;
    out += `case ${caseId}: ${state.status}\n  respondent ${p.respondent}, opened by ${p.opener}`;
    out += `${p.mediator ? `, mediator ${p.mediator}` : ''}${p.court ? `, court ${p.court}` : ''}\n`;
    for (const e of state.timeline)
      out += `  ${e.blockTime}  height ${String(e.height).padStart(6)}  ${e.institution.padEnd(12)} ${e.event}\n`;
  }
  if (records.length === 0) return `${out}case ${caseId}: no evidence recorded\n`;
  return (
    `${out}case ${caseId}: ${records.length} evidence record(s)\n` +
    records
      .map(
        (x) =>
          `  ${x.blockTime}  height ${String(x.height).padStart(6)}  ${x.institution.padEnd(12)} ` +
          `${x.evidence.evidenceType.padEnd(19)} ${x.evidence.hashAlg}:${x.evidence.hash.slice(0, 16)}…` +
          `${x.evidence.label ? `  "${x.evidence.label}"` : ''}\n`,
      )
      .join('')
  );
}

export function registerCaseCommands(program: Command, io: CliIo): void {
  const c = program
    .command('case')
    .description('dispute cases: record their events, look them up (docs/cases.md)');
  c.command('show')
    .description("print a case's state, event timeline and evidence, in chain order")
    .argument('<id>', 'case reference')
    .option(...NODE_OPTION)
    .option(...KEY_OPTION)
    .option(...HOME_OPTION)
    .option(...CASE_KEYS_OPTION)
    .option('--json', 'print machine-readable JSON')
    .action((caseId: string, opts: { node?: string; key?: string; home?: string; json?: boolean }) =>
      showCase(io, caseId, opts),
    );
  c.command('list')
    .description('list cases in the order they were opened, one page at a time')
    .option('--limit <n>', 'cases per page (1-1000, default 100)', parsePositiveInt)
    .option('--cursor <c>', 'the `next` cursor of the previous page')
    .option(...NODE_OPTION)
    .option(...KEY_OPTION)
    .option(...HOME_OPTION)
    .option('--json', 'print machine-readable JSON')
    .action(
      async (opts: {
        limit?: number;
        cursor?: string;
        node?: string;
        key?: string;
        home?: string;
        json?: boolean;
      }) => {
        const q = new URLSearchParams();
        if (opts.limit !== undefined) q.set('limit', String(opts.limit));
        if (opts.cursor !== undefined) q.set('cursor', opts.cursor);
        const r = await (await signedClient(opts)).get<{ cases: CaseJson[]; next: string | null }>(
          `/v1/cases?${q}`,
        );
        emit(io, opts.json === true, r.body, () =>
          r.body.cases
            .map((x) => `${x.caseId.padEnd(24)} ${x.status.padEnd(20)} ${x.parties.respondent}\n`)
            .join('')
            .concat(r.body.next ? `more: --cursor ${r.body.next}\n` : ''),
        );
      },
    );
  registerCaseReceiptCommands(c, io);
  registerCaseEventCommands(c, io);
  registerCaseKeyCommands(c, io);
}

const MARK = { pass: 'ok  ', fail: 'FAIL', skip: '--  ' } as const;

function registerCaseReceiptCommands(c: Command, io: CliIo): void {
  c.command('receipt')
    .description("fetch a case's receipt: every event with its proofs, verifiable offline (case verify)")
    .argument('<id>', 'case id (looked up in the case-key store) or its k1: reference')
    .option('--out <file>', 'write the receipt to this file (default: print it)')
    .option(...NODE_OPTION)
    .option(...KEY_OPTION)
    .option(...HOME_OPTION)
    .option(...CASE_KEYS_OPTION)
    .action(
      async (caseId: string, opts: { out?: string; node?: string; key?: string; caseKeys?: string }) => {
        const { client, id } = await signedIdentity(opts);
        const { name } = caseNameOnChain(caseId, opts, id.sealingRequired);
        const r = await client.get<unknown>(`/v1/cases/${encodeURIComponent(name)}/receipt`);
        const text = `${JSON.stringify(r.body, null, 2)}\n`;
        if (opts.out === undefined) io.out(text);
        else {
          writeFileSync(opts.out, text, { flag: 'wx' });
          io.out(`case receipt of ${caseId} written to ${opts.out}\n`);
        }
      },
    );
  c.command('verify')
    .description(
      'verify a case receipt offline, with no node: genesis, each event (header, validator set, commit\n' +
        'certificate, signature, inclusion), the timeline (chain order, each event linked to the one before,\n' +
        'the case state machine with the roles in force) and the summary',
    )
    .argument('<receipt>', 'case receipt file (from case receipt)')
    .requiredOption('--genesis <file>', 'the genesis of the chain the receipt claims')
    .option('--json', 'print machine-readable JSON')
    .action((file: string, opts: { genesis: string; json?: boolean }) => {
      const genesis = loadGenesisFile(opts.genesis);
      const v = verifyCaseReceipt(readJsonFile(file, 'case receipt'), genesis);
      emit(io, opts.json === true, v, () => {
        const lines = v.checks.map(
          (x) =>
            `${MARK[x.status]} ${x.name.padEnd(10)} ${x.detail}${x.code === undefined ? '' : ` [${x.code}]`}`,
        );
        const s = v.state;
        lines.push(
          '',
          s
            ? `PROVEN: case ${s.caseId} is ${s.status} after ${s.events.length} event(s)`
            : 'NOT PROVEN: the case receipt failed a check',
        );
        return `${lines.join('\n')}\n`;
      });
      if (!v.ok) io.setExit(ExitCode.failed);
    });
}

type Figures = Record<string, unknown> & { mediationHours: Record<string, number | null> };

function figuresText(name: string, f: Figures): string {
  const rate = typeof f.successRate === 'number' ? `${(f.successRate * 100).toFixed(1)} %` : '-';
  const h = f.mediationHours;
  const hours = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${v.toFixed(1)} h`);
  return (
    `${name}: opened ${f.opened}, mediated ${f.mediated} (agreed ${f.agreed}, failed ${f.failed}), success ${rate}, ` +
    `mediation avg ${hours(h.average)} p50 ${hours(h.p50)} p90 ${hours(h.p90)}, ` +
    `judicial confirmations ${f.confirmed} (refused ${f.refused})\n`
  );
}

export function registerStatsCommand(program: Command, io: CliIo): void {
  program
    .command('stats')
    .description('case statistics from the chain: per chain, institution and month (docs/cases.md)')
    .option('--institution <id>', 'only this institution')
    .option('--month <YYYY-MM>', 'only this month')
    .option(...NODE_OPTION)
    .option(...KEY_OPTION)
    .option(...HOME_OPTION)
    .option('--json', 'print machine-readable JSON')
    .action(
      async (opts: {
        institution?: string;
        month?: string;
        node?: string;
        key?: string;
        home?: string;
        json?: boolean;
      }) => {
        const q = new URLSearchParams();
        if (opts.institution !== undefined) q.set('institution', opts.institution);
        if (opts.month !== undefined) q.set('month', opts.month);
        const r = await (await signedClient(opts)).get<{
          height: number;
          all: Figures | null;
          institutions: Record<string, Figures>;
          months: Record<string, Figures>;
        }>(`/v1/stats?${q}`);
        const s = r.body;
        emit(io, opts.json === true, s, () => {
          if (s.all === null) return `no cases yet (height ${s.height})\n`;
          let out = `as of height ${s.height}\n${figuresText('all', s.all)}`;
          for (const [k, f] of Object.entries(s.institutions)) out += figuresText(k, f);
          for (const [k, f] of Object.entries(s.months)) out += figuresText(k, f);
          return out;
        });
      },
    );
}
