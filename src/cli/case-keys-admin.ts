/**
 * The two halves of shredding on an institution's side (docs/cases.md#crypto-shredding, ADR 015):
 * `case shred` destroys the store's copy of a case key and says what is left to do, here and at the other
 * parties; `keys rotate-encryption` retires the X25519 key the case's wraps were made to: it imports every case
 * still only on the chain, writes a successor key, proposes it to governance, and (`--finish`, once the
 * proposal passed) destroys the old key and puts the new one in its place.
 */
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { toHex } from '../core/bytes.ts';
import { newEncryptionKey } from '../core/case-seal.ts';
import {
  CASE_KEYS_DIR,
  CaseKeyStore,
  destroySecretFile,
  ENCRYPTION_KEY_FILE,
  readEncryptionKeyFile,
  writeEncryptionKeyFile,
} from '../node/case-keys.ts';
import { HOME_FILES } from '../node/home.ts';
import { clientKeyFile, HOME_OPTION, KEY_OPTION } from './case-query.ts';
import { CASE_KEYS_OPTION, caseStoreFor, storedCase, storedCaseFor } from './case-sealing.ts';
import { syncCaseKeys } from './case-sync.ts';
import { ApiClient, nodeUrl } from './client.ts';
import { resolveIdentity } from './evidence.ts';
import { fetchGovernance, governanceTx, resolveValidator } from './gov.ts';
import { type CliIo, emit, UsageError } from './io.ts';
import { passphraseIfEncrypted } from './passphrase.ts';

const NODE_OPTION = [
  '--node <url>',
  'node API URL (default: $JRCHAIN_NODE or http://127.0.0.1:8100)',
] as const;

interface CaseJson {
  parties: { opener: string; respondent: string; mediator: string | null; court: string | null };
}

/** `jrchain case shred`: this institution's half of shredding one case. */
export function registerShredCommand(c: Command, io: CliIo): void {
  c.command('shred')
    .description(
      "destroy this institution's copy of a case key (the store file is overwritten, then removed; with\n" +
        "--home also the node home's store) and print what is left: retiring the encryption key its wraps\n" +
        'were made to (keys rotate-encryption), and the same two steps at every other party\n' +
        '(docs/cases.md#crypto-shredding)',
    )
    .argument('<case-id>', 'the case id, or its k1: reference')
    .option(...KEY_OPTION)
    .option(...HOME_OPTION)
    .option(...CASE_KEYS_OPTION)
    .option(...NODE_OPTION)
    .option('--offline', 'do not ask the node for the parties (the other parties are then not named)')
    .option('--json', 'print machine-readable JSON')
    .action(async (caseId: string, o: ShredOptions) => {
      // With --case-keys alone the shred works offline; a client key also names the default store and the node.
      const keyFile =
        o.key !== undefined || o.home !== undefined || o.caseKeys === undefined
          ? clientKeyFile(o)
          : undefined;
      // An encrypted key file's passphrase also opens the store (asked here, once, on a terminal).
      if (keyFile !== undefined) await passphraseIfEncrypted(keyFile);
      const s = caseStoreFor(o, keyFile, false);
      if (s === undefined) throw new UsageError(`no case-key store beside ${keyFile}: give --case-keys`);
      const stored = storedCaseFor(s, caseId) ?? storedCase(s.store, caseId);
      // Ask for the parties first: a refusal or an unreachable node loses nothing.
      let me: string | undefined;
      let parties: string[] | undefined;
      if (o.offline !== true && keyFile !== undefined) {
        const client = new ApiClient(nodeUrl(o.node));
        me = (await resolveIdentity(client, keyFile)).institution;
        const r = await client.get<{ case: CaseJson | null }>(
          `/v1/cases/${encodeURIComponent(stored.ref)}?limit=1`,
        );
        const p = r.body.case?.parties;
        if (p)
          parties = [...new Set([p.opener, p.respondent, p.mediator, p.court])].filter((x) => x !== null);
      }
      const stores = [s.store];
      if (o.home !== undefined) stores.push(new CaseKeyStore(join(o.home, CASE_KEYS_DIR)));
      const shredded = [...new Set(stores.map((x) => x.dir))].filter((dir) =>
        new CaseKeyStore(dir).shred(stored.ref),
      );
      const others = parties?.filter((p) => p !== me) ?? null;
      const rotate = `jrchain keys rotate-encryption ${o.home === undefined ? '--key <client key> --enc-key <encryption key>' : `--home ${o.home}`}`;
      const out = { caseId: stored.caseId, ref: stored.ref, shredded, next: rotate, otherParties: others };
      emit(io, o.json === true, out, () => {
        let t = `shredded this institution's key of case ${stored.caseId} (${stored.ref}) in ${shredded.join(', ')}\n`;
        t += `next, here: retire the encryption key the case's wraps were made to: ${rotate}\n`;
        if (others === null) t += 'the other parties (not asked: --offline) must do the same two steps\n';
        else if (others.length > 0)
          t +=
            `the case stays readable until every other party does the same: ${others.join(', ')} must each run\n` +
            `  jrchain case shred ${stored.ref} --home <its home>   and then   jrchain keys rotate-encryption --home <its home>\n`;
        return t;
      });
    });
}

interface ShredOptions {
  key?: string;
  home?: string;
  caseKeys?: string;
  node?: string;
  offline?: boolean;
  json?: boolean;
}

interface RotateOptions {
  home?: string;
  key?: string;
  encKey?: string;
  validatorKey?: string;
  caseKeys?: string;
  node?: string;
  finish?: boolean;
  json?: boolean;
}

/** The files a rotation works on: from --home, each overridable. */
function rotationFiles(o: RotateOptions) {
  const inHome = (f: string) => (o.home === undefined ? undefined : join(o.home, f));
  const key = o.key ?? inHome(HOME_FILES.clientKey);
  const encKey = o.encKey ?? inHome(ENCRYPTION_KEY_FILE);
  if (key === undefined || encKey === undefined)
    throw new UsageError('give --home <node home>, or --key <client key> and --enc-key <encryption key>');
  const validatorKey = o.validatorKey ?? inHome(HOME_FILES.validatorKey);
  return { key, encKey, next: `${encKey}.next`, validatorKey };
}

/** `jrchain keys rotate-encryption`: replace the institution's X25519 key by governance, losing no case. */
export function registerRotateEncryptionCommand(keys: Command, io: CliIo): void {
  keys
    .command('rotate-encryption')
    .description(
      "retire this institution's X25519 encryption key: import every case wrapped to it (case sync), write a\n" +
        'successor (<enc-key>.next, encrypted like the old one) and propose it to governance with the\n' +
        "home's validator key; once the proposal passed, --finish destroys the old key and moves the new one\n" +
        'into its place',
    )
    .option('--home <dir>', 'node home: client.key, encryption.key, validator.key and case-keys/ in it')
    .option('--key <file>', 'client key file (default: <home>/client.key)')
    .option('--enc-key <file>', 'the encryption key file to retire (default: <home>/encryption.key)')
    .option(
      '--validator-key <file>',
      'validator key that proposes the change (default: <home>/validator.key)',
    )
    .option(...CASE_KEYS_OPTION)
    .option(...NODE_OPTION)
    .option('--finish', 'the proposal passed: destroy the old key and put the successor in its place')
    .option('--json', 'print machine-readable JSON')
    .action(async (o: RotateOptions) => {
      const f = rotationFiles(o);
      const client = new ApiClient(nodeUrl(o.node));
      const id = await resolveIdentity(client, f.key);
      if (o.finish === true) return finishRotation(io, client, id.institution, f, o.json === true);
      if (existsSync(f.next))
        throw new UsageError(`${f.next} exists: a rotation is under way; run with --finish once it passed`);
      const passphrase = await passphraseIfEncrypted(f.encKey);
      const old = readEncryptionKeyFile(f.encKey, passphrase === undefined ? {} : { passphrase });
      // Every case wrapped to the old key goes into the store first: after the rotation nothing opens those wraps.
      const store = caseStoreFor(o, f.key, true)!.store;
      const synced = await syncCaseKeys(client, id.institution, store, old);
      const k = newEncryptionKey();
      writeEncryptionKeyFile(f.next, k, passphrase === undefined ? {} : { passphrase });
      const action = {
        type: 'setEncryptionKey' as const,
        institution: id.institution,
        publicKey: k.publicKey,
      };
      const publicKey = toHex(k.publicKey);
      let proposalId: string | null = null;
      if (f.validatorKey !== undefined && existsSync(f.validatorKey)) {
        const v = await resolveValidator(client, f.validatorKey);
        const now = Date.now();
        const env = governanceTx(v, { kind: 'propose', deadline: now + 24 * 3_600_000, action }, now);
        const r = await client.request<{ code?: string; message?: string }>(
          'POST',
          '/v1/txs?wait=30000',
          env.bytes,
          45_000,
        );
        if (r.status !== 200 && r.status !== 202)
          throw new UsageError(
            `the proposal was refused: ${r.body.code ?? r.status} ${r.body.message ?? ''}`,
          );
        proposalId = env.hashHex;
      }
      const out = {
        institution: id.institution,
        imported: synced.imported,
        next: f.next,
        publicKey,
        proposalId,
      };
      emit(io, o.json === true, out, () => {
        let t = `imported ${synced.imported.length} case key(s) wrapped to the old key; successor written to ${f.next}\n`;
        t +=
          proposalId === null
            ? `no validator key here: ask a validator to run  jrchain gov propose set-encryption-key ${id.institution} ${publicKey}\n`
            : `proposed set-encryption-key ${id.institution} ${publicKey}: proposal ${proposalId}\n` +
              `other validators approve it with: jrchain gov approve ${proposalId}\n`;
        return `${t}once it passed: jrchain keys rotate-encryption ${o.home === undefined ? `--key ${f.key} --enc-key ${f.encKey}` : `--home ${o.home}`} --finish\n`;
      });
    });
}

async function finishRotation(
  io: CliIo,
  client: ApiClient,
  institution: string,
  f: ReturnType<typeof rotationFiles>,
  json: boolean,
): Promise<void> {
  if (!existsSync(f.next)) throw new UsageError(`${f.next} does not exist: no rotation is under way`);
  const passphrase = await passphraseIfEncrypted(f.next);
  const next = readEncryptionKeyFile(f.next, passphrase === undefined ? {} : { passphrase });
  const gov = await fetchGovernance(client);
  const registered = (gov.institutions.find((i) => i.id === institution) as { encryptionKey?: string | null })
    ?.encryptionKey;
  if (registered !== toHex(next.publicKey))
    throw new UsageError(
      `governance has not registered ${f.next} for ${institution} yet (registered: ${registered ?? 'none'}); wait for the proposal's approvals`,
    );
  destroySecretFile(f.encKey);
  renameSync(f.next, f.encKey);
  const out = { institution, destroyed: f.encKey, encryptionKey: toHex(next.publicKey) };
  emit(io, json, out, () => `destroyed the old encryption key; ${f.encKey} now holds the registered one\n`);
}
