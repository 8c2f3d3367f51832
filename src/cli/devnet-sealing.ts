/**
 * Case confidentiality for the devnet demo (ADR 011): each institution gets an X25519 encryption key and a
 * case-key store in its home (`encryption.key`, `case-keys/`), governance registers the keys (proposed by the
 * first validator, approved by the others), and the demo's case events are sealed as `jrchain case ... --case-keys`
 * seals them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../core/bytes.ts';
import type { CaseRecord } from '../core/case.ts';
import { newEncryptionKey } from '../core/case-seal.ts';
import type { GovernanceAction } from '../core/governance.ts';
import type { TxEnvelope } from '../core/tx.ts';
import type { DevnetManifest } from '../dev/devnet.ts';
import { waitFor } from '../dev/processes.ts';
import {
  CASE_KEYS_DIR,
  CaseKeyStore,
  ENCRYPTION_KEY_FILE,
  type EncryptionKey,
  readEncryptionKeyFile,
  writeEncryptionKeyFile,
} from '../node/case-keys.ts';
import { HOME_FILES } from '../node/home.ts';
import { sealRecord, storedCase } from './case-sealing.ts';
import { syncCaseKeys } from './case-sync.ts';
import { ApiClient, toError } from './client.ts';
import { fetchGovernance, governanceTx, resolveValidator } from './gov.ts';

/** What one institution of the demo holds to read and write sealed cases. */
export interface Sealing {
  store: CaseKeyStore;
  enc: EncryptionKey;
}

/** Submits a governance tx and returns once it is committed (the next approval is judged against it). */
async function submitGov(client: ApiClient, env: TxEnvelope): Promise<void> {
  const r = await client.request('POST', '/v1/txs?wait=30000', env.bytes, 45_000);
  if (r.status === 200) return;
  if (r.status !== 202) throw toError(r);
  // Accepted but not committed within the wait (a loaded machine): poll until it is.
  await waitFor(
    `governance tx ${env.hashHex} to commit`,
    async () => ((await client.request('GET', `/v1/txs/${env.hashHex}`)).status === 200 ? true : undefined),
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}

/**
 * Encryption keys and stores for every institution of the devnet (its validators and its observer), with the
 * keys registered by governance; a re-run registers only what is missing.
 */
export async function prepareSealing(
  m: DevnetManifest,
  out: (s: string) => void,
): Promise<Map<string, Sealing>> {
  const homes = [...m.nodes, ...(m.observer ? [m.observer] : [])];
  const sealing = new Map<string, Sealing>();
  for (const n of homes) {
    const file = join(n.home, ENCRYPTION_KEY_FILE);
    if (!existsSync(file)) writeEncryptionKeyFile(file, newEncryptionKey());
    sealing.set(n.institution, {
      store: new CaseKeyStore(join(n.home, CASE_KEYS_DIR)),
      enc: readEncryptionKeyFile(file),
    });
  }
  const client = new ApiClient(m.nodes[0]!.apiUrl);
  const registered = new Map(
    (await fetchGovernance(client)).institutions.map((i) => [
      i.id,
      (i as { encryptionKey?: string | null }).encryptionKey,
    ]),
  );
  const actions: GovernanceAction[] = [...sealing]
    .filter(([inst, s]) => registered.get(inst) !== toHex(s.enc.publicKey))
    .map(([institution, s]) => ({ type: 'setEncryptionKey', institution, publicKey: s.enc.publicKey }));
  if (actions.length === 0) return sealing;
  out(`sealing: registering ${actions.length} X25519 encryption key(s) by governance`);
  // Every governance tx goes through the first node: it has committed the proposal before it admits the
  // approvals (another node may not hold that block yet and would refuse them as naming no proposal).
  const validators = await Promise.all(
    m.nodes.map((n) => resolveValidator(client, join(n.home, HOME_FILES.validatorKey))),
  );
  const quorum = Math.floor((2 * m.nodes.length) / 3) + 1;
  for (const action of actions) {
    const now = Date.now();
    const p = governanceTx(validators[0]!, { kind: 'propose', deadline: now + 3_600_000, action }, now);
    await submitGov(client, p);
    for (const v of validators.slice(1, quorum))
      await submitGov(client, governanceTx(v, { kind: 'approve', proposalId: p.hash }, Date.now()));
  }
  return sealing;
}

/**
 * The sealed form of a demo event by `institution` (whose store must hold the case: the opener's from
 * `newStoredCase`, the others' imported with `importCase`).
 */
export function sealDemoEvent(
  client: ApiClient,
  institution: string,
  s: Sealing,
  caseId: string,
  r: CaseRecord,
): Promise<CaseRecord> {
  return sealRecord(client, institution, storedCase(s.store, caseId), r);
}

/** Imports the case keys wrapped for `institution` from the chain into its store (`jrchain case sync`). */
export function importCases(client: ApiClient, institution: string, s: Sealing) {
  return syncCaseKeys(client, institution, s.store, s.enc);
}
