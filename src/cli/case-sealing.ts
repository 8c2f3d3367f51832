/**
 * The institution side of case confidentiality (ADR 011, docs/cases.md#confidentiality): with a case-key store
 * (`--case-keys <dir>` or $JRCHAIN_CASE_KEYS), case commands name a case on the chain by its keyed reference,
 * seal its id and notes under the case key, and wrap that key for each party an event adds, to the X25519 key
 * governance registered for it. The case id in clear never leaves this machine.
 *
 * Without either, the store is `case-keys/` beside the client key file (ADR 015): in a node home that is the
 * store the node serves the institution's cases from. On a chain whose genesis requires sealing it is used
 * (created) for every case; elsewhere only when it exists and holds the case, so unsealed cases keep working.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fromHex } from '../core/bytes.ts';
import type { CaseKeyWrap, CaseRecord } from '../core/case.ts';
import {
  caseRef,
  isCaseRef,
  keyedClaimantCommitment,
  newCaseKey,
  sealCaseDetails,
  wrapCaseKey,
} from '../core/case-seal.ts';
import { CASE_KEYS_DIR, CaseKeyStore, type StoredCaseKey } from '../node/case-keys.ts';
import type { ApiClient } from './client.ts';
import { UsageError } from './io.ts';
import { isEncryptedFile, sessionPassphrase } from './passphrase.ts';

export const CASE_KEYS_ENV = 'JRCHAIN_CASE_KEYS';

export const CASE_KEYS_OPTION = [
  '--case-keys <dir>',
  `case-key store (default: $${CASE_KEYS_ENV}, else ${CASE_KEYS_DIR}/ beside the client key file)`,
] as const;

/** The store named by `--case-keys` or $JRCHAIN_CASE_KEYS, if any. */
export function caseStoreFrom(opts: { caseKeys?: string }, keyFile?: string): CaseKeyStore | undefined {
  const dir = opts.caseKeys ?? process.env[CASE_KEYS_ENV];
  return dir === undefined || dir === '' ? undefined : openStore(dir, keyFile);
}

/**
 * A store, encrypted with the key files' passphrase when the institution's client key file is encrypted
 * (ADR 015): a plain store is encrypted in place the first time such a key uses it.
 */
function openStore(dir: string, keyFile: string | undefined): CaseKeyStore {
  const encrypt = keyFile !== undefined && isEncryptedFile(keyFile);
  return new CaseKeyStore(dir, { passphrase: sessionPassphrase(), encrypt });
}

/** The default store of the institution whose client key is `keyFile`: `case-keys/` in the same directory. */
export function defaultCaseKeysDir(keyFile: string): string {
  return join(dirname(resolve(keyFile)), CASE_KEYS_DIR);
}

/**
 * Where a command keeps or finds case keys: the named store; else the default beside `keyFile`, created when
 * `create` (a chain that requires sealing) and otherwise only if it exists.
 */
export function caseStoreFor(
  opts: { caseKeys?: string },
  keyFile: string | undefined,
  create: boolean,
): { store: CaseKeyStore; named: boolean } | undefined {
  const named = caseStoreFrom(opts, keyFile);
  if (named !== undefined) return { store: named, named: true };
  if (keyFile === undefined) return undefined;
  const dir = defaultCaseKeysDir(keyFile);
  return create || existsSync(dir) ? { store: openStore(dir, keyFile), named: false } : undefined;
}

/**
 * The stored case a command names: a `k1:` reference, or a case id; a named store must hold the id, the
 * default one need not (an unsealed case, named by its id on the chain).
 */
export function storedCaseFor(
  s: { store: CaseKeyStore; named: boolean } | undefined,
  caseId: string,
): StoredCaseKey | undefined {
  if (s === undefined) return undefined;
  if (isCaseRef(caseId)) return s.store.byRef(caseId);
  return s.named ? storedCase(s.store, caseId) : s.store.byCaseId(caseId);
}

/** The stored key of `caseId`; a usage error naming the remedy when the store has none. */
export function storedCase(store: CaseKeyStore, caseId: string): StoredCaseKey {
  const c = store.byCaseId(caseId);
  if (c === undefined)
    throw new UsageError(
      `no key for case ${caseId} in ${store.dir}: run \`jrchain case sync\` to import the cases wrapped for this institution`,
    );
  return c;
}

/** The registered X25519 encryption keys, by institution, from the node's registry. */
export async function encryptionKeys(client: ApiClient): Promise<Map<string, Uint8Array>> {
  const r = await client.get<{ institutions: { id: string; encryptionKey: string | null }[] }>(
    '/v1/governance',
  );
  const out = new Map<string, Uint8Array>();
  for (const i of r.body.institutions) if (i.encryptionKey) out.set(i.id, fromHex(i.encryptionKey));
  return out;
}

function wrapsFor(client: ApiClient, c: StoredCaseKey, parties: string[]): Promise<CaseKeyWrap[]> {
  return encryptionKeys(client).then((keys) =>
    parties.map((institution) => {
      const recipient = keys.get(institution);
      if (recipient === undefined)
        throw new UsageError(
          `${institution} has no registered encryption key: it must run \`jrchain keys generate-encryption\` and governance \`set-encryption-key\` first`,
        );
      return { institution, recipient, wrapped: wrapCaseKey(c.key, recipient, c.ref, institution) };
    }),
  );
}

/** A fresh case: its key and reference, kept in the store before anything goes to the chain. */
export function newStoredCase(store: CaseKeyStore, caseId: string): StoredCaseKey {
  if (store.byCaseId(caseId) !== undefined) throw new UsageError(`case ${caseId} is already in ${store.dir}`);
  const key = newCaseKey();
  const c = { caseId, ref: caseRef(key, caseId), key };
  store.put(c);
  return c;
}

export const sealedClaimant = (c: StoredCaseKey, claimantRef: string) =>
  keyedClaimantCommitment(c.key, claimantRef);

/**
 * The sealed form of `r` (whose caseId is the id in clear): named by the case reference, with the id (open)
 * and the note sealed, and the case key wrapped for the parties the event adds.
 */
export async function sealRecord(
  client: ApiClient,
  signer: string,
  c: StoredCaseKey,
  r: CaseRecord,
  note?: string,
): Promise<CaseRecord> {
  const e = r.event;
  const added =
    e.type === 'open'
      ? [...new Set([signer, e.respondent])]
      : e.type === 'assign'
        ? [e.mediator]
        : e.type === 'applyConfirmation'
          ? [e.court]
          : [];
  const wraps = added.length > 0 ? await wrapsFor(client, c, added) : undefined;
  const sealed =
    e.type === 'open' || note !== undefined
      ? sealCaseDetails(c.key, c.ref, { caseId: c.caseId, ...(note === undefined ? {} : { note }) })
      : undefined;
  const out: CaseRecord = { ...r, caseId: c.ref };
  if (sealed !== undefined) out.sealed = sealed;
  if (wraps !== undefined || sealed !== undefined) out.wraps = wraps ?? [];
  return out;
}
