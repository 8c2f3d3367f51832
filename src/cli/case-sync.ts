/**
 * Case keys on the institution's side (ADR 011, docs/cases.md#crypto-shredding): `case sync` imports the case
 * keys wrapped for this institution on the chain into its store (case-keys-admin.ts has `case shred`), and
 * `keys generate-encryption` / `keys destroy-encryption` make and retire the X25519 keys the wraps are made to.
 */
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { equalBytes, toHex } from '../core/bytes.ts';
import { decodeCase } from '../core/case.ts';
import { isCaseRef, newEncryptionKey, openCaseDetails, unwrapCaseKey } from '../core/case-seal.ts';
import { isJrError } from '../core/errors.ts';
import { parseTx } from '../core/tx.ts';
import {
  type CaseKeyStore,
  destroySecretFile,
  ENCRYPTION_KEY_FILE,
  type EncryptionKey,
  isEncryptionKeyFile,
  readEncryptionKeyFile,
  writeEncryptionKeyFile,
} from '../node/case-keys.ts';
import { CASE_KEYS_OPTION, caseStoreFor } from './case-sealing.ts';
import { ApiClient, nodeUrl } from './client.ts';
import { resolveIdentity } from './evidence.ts';
import { type CliIo, emit, UsageError } from './io.ts';
import { newPassphrase, passphraseIfEncrypted } from './passphrase.ts';

interface CaseListJson {
  cases: { caseId: string; timeline: { txHash: string }[] }[];
  next: string | null;
}

/** The case key wrapped for `me` in one of the case's events, or undefined. */
async function keyFromChain(
  client: ApiClient,
  ref: string,
  txHashes: string[],
  me: string,
  enc: EncryptionKey,
): Promise<{ key: Uint8Array; caseId: string } | undefined> {
  const records = [];
  for (const h of txHashes) {
    const t = await client.get<{ bytes: string }>(`/v1/txs/${h}`);
    records.push(decodeCase(parseTx(new Uint8Array(Buffer.from(t.body.bytes, 'base64'))).tx.payload));
  }
  for (const r of records) {
    const w = r.wraps?.find((x) => x.institution === me && equalBytes(x.recipient, enc.publicKey));
    if (w === undefined) continue;
    const key = unwrapCaseKey(w.wrapped, enc.privateKey, ref, me);
    const sealed = records[0]?.sealed;
    if (sealed === undefined) return undefined;
    return { key, caseId: openCaseDetails(key, ref, sealed).caseId };
  }
  return undefined;
}

/** Imports every readable sealed case missing from the store; returns what it imported and what it could not. */
export async function syncCaseKeys(
  client: ApiClient,
  me: string,
  store: CaseKeyStore,
  enc: EncryptionKey,
): Promise<{ imported: string[]; unreadable: string[] }> {
  const imported: string[] = [];
  const unreadable: string[] = [];
  let cursor: string | null = null;
  do {
    const q: string = `?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: CaseListJson = (await client.get<CaseListJson>(`/v1/cases${q}`)).body;
    for (const c of page.cases) {
      // A case shredded here stays shredded, even while the old encryption key still opens its wrap.
      if (!isCaseRef(c.caseId) || store.byRef(c.caseId) !== undefined || store.isShredded(c.caseId)) continue;
      try {
        const found = await keyFromChain(
          client,
          c.caseId,
          c.timeline.map((e) => e.txHash),
          me,
          enc,
        );
        if (found === undefined) unreadable.push(c.caseId);
        else {
          store.put({ caseId: found.caseId, ref: c.caseId, key: found.key });
          imported.push(found.caseId);
        }
      } catch (err) {
        if (!isJrError(err)) throw err;
        unreadable.push(c.caseId);
      }
    }
    cursor = page.next;
  } while (cursor);
  return { imported, unreadable };
}

async function loadEncryptionKey(file: string): Promise<EncryptionKey> {
  const passphrase = await passphraseIfEncrypted(file);
  return readEncryptionKeyFile(file, passphrase === undefined ? {} : { passphrase });
}

export function registerCaseKeyCommands(c: Command, io: CliIo): void {
  c.command('sync')
    .description(
      'import into the case-key store the key of every sealed case this institution may read, unwrapped\n' +
        'with its X25519 encryption key from the wraps on the chain',
    )
    .requiredOption('--key <file>', 'institution client key file (signs the reads)')
    .option(
      '--enc-key <file>',
      `the institution X25519 encryption key file (default: ${ENCRYPTION_KEY_FILE} beside the client key)`,
    )
    .option(...CASE_KEYS_OPTION)
    .option('--node <url>', 'node API URL (default: $JRCHAIN_NODE or http://127.0.0.1:8100)')
    .option('--json', 'print machine-readable JSON')
    .action(async (o: { key: string; encKey?: string; caseKeys?: string; node?: string; json?: boolean }) => {
      const client = new ApiClient(nodeUrl(o.node));
      const id = await resolveIdentity(client, o.key);
      // Both default to the node home's layout when the client key lives there (ADR 015).
      const encKey = o.encKey ?? join(dirname(resolve(o.key)), ENCRYPTION_KEY_FILE);
      const store = caseStoreFor(o, o.key, true)!.store;
      const r = await syncCaseKeys(client, id.institution, store, await loadEncryptionKey(encKey));
      emit(
        io,
        o.json === true,
        r,
        () => `imported ${r.imported.length} case key(s); ${r.unreadable.length} not wrapped to this key\n`,
      );
    });
}

export function registerEncryptionKeyCommands(keys: Command, io: CliIo): void {
  keys
    .command('generate-encryption')
    .description(
      'create an X25519 encryption key file (mode 0600) for case-key wraps; governance registers its public\n' +
        'key with `jrchain gov propose set-encryption-key <institution> <public key>`',
    )
    .requiredOption('--out <file>', 'path of the key file to create')
    .option('--encrypt', 'encrypt it with a passphrase (JRCHAIN_KEY_PASSPHRASE, else a prompt)')
    .option('--json', 'print machine-readable JSON')
    .action(async (o: { out: string; encrypt?: boolean; json?: boolean }) => {
      const k = newEncryptionKey();
      writeEncryptionKeyFile(o.out, k, o.encrypt ? { passphrase: await newPassphrase() } : {});
      const info = { file: o.out, publicKey: toHex(k.publicKey) };
      emit(
        io,
        o.json === true,
        info,
        () => `encryption key file: ${info.file}\npublic key: ${info.publicKey}\n`,
      );
    });
  keys
    .command('destroy-encryption')
    .description(
      'destroy a retired encryption key file (overwritten, then removed): the wraps made to it can no longer\n' +
        'be opened. Run `case sync` with it first, and only once governance registered its successor',
    )
    .argument('<file>')
    .action((file: string) => {
      if (!isEncryptionKeyFile(file)) throw new UsageError(`${file} is not an encryption key file`);
      destroySecretFile(file);
      io.out(`destroyed ${file}\n`);
    });
}
