/** `jrchain audit`: the node's audit log of case-data reads, as the institution concerned may see it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  AUDIT_LOG_FILE,
  type CommittedAuditHead,
  checkCommittedHead,
  verifyAuditFile,
} from '../api/audit.ts';
import { tryFromHex } from '../core/bytes.ts';
import { HOME_FILES } from '../node/home.ts';
import { caseNameOnChain, HOME_OPTION, KEY_OPTION, signedIdentity } from './case-query.ts';
import { CASE_KEYS_OPTION } from './case-sealing.ts';
import { ApiClient, nodeUrl } from './client.ts';
import { type CliIo, emit, UsageError } from './io.ts';

interface AuditEntryJson {
  seq: number;
  time: string;
  institution: string;
  keyId: string;
  action: string;
  caseId: string | null;
}

interface AuditOptions {
  case?: string;
  node?: string;
  key?: string;
  home?: string;
  caseKeys?: string;
  json?: boolean;
}

export function registerAuditCommand(program: Command, io: CliIo): void {
  const audit = program
    .command('audit')
    .description(
      'who read case data on this node: the reads of one of your cases (--case), or your own reads\n' +
        '(docs/security.md#audit-log)',
    )
    .option('--case <id>', 'a case your institution is a party of: its id (case-key store) or k1: reference')
    .option('--node <url>', 'node API URL (default: $JRCHAIN_NODE or http://127.0.0.1:8100)')
    .option(...KEY_OPTION)
    .option(...HOME_OPTION)
    .option(...CASE_KEYS_OPTION)
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: AuditOptions) => {
      const { client, id } = await signedIdentity(opts);
      const name =
        opts.case === undefined ? undefined : caseNameOnChain(opts.case, opts, id.sealingRequired).name;
      const q = name === undefined ? '' : `?case=${encodeURIComponent(name)}`;
      const r = await client.get<{ entries: AuditEntryJson[] }>(`/v1/audit${q}`);
      emit(
        io,
        opts.json === true,
        r.body,
        () =>
          r.body.entries
            .map(
              (e) =>
                `${String(e.seq).padStart(6)}  ${e.time}  ${`${e.institution}/${e.keyId}`.padEnd(20)} ` +
                `${e.action.padEnd(13)} ${e.caseId ?? '-'}\n`,
            )
            .join('') || 'no audit entries\n',
      );
    });
  audit
    .command('verify')
    .description(
      "check a node's audit log offline: the hash chain of its entries, that it still ends at the head\n" +
        'recorded beside it (a log cut at its tail fails), and the signature on that head: with --home (or\n' +
        "--public-key) it must be the node's validator key, so cutting the log and its head together fails",
    )
    .requiredOption('--data-dir <dir>', "the node's data directory (holding audit.log)")
    .option('--home <dir>', "the node's home: its validator key (validator.key) must have signed the head")
    .option(
      '--public-key <hex>',
      'a validator public key that may have signed the head (repeatable)',
      collect,
    )
    .option(
      '--institution <id>',
      "the node's institution: its audit head committed on the chain (asked of --node) must still be in the\n" +
        'log, so a log rolled back with its signed head fails (AUDIT_LOG_ROLLED_BACK)',
    )
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: VerifyOptions) => {
      // `audit` has --json, --home and --node too, and commander gives a flag to the parent that defines it.
      const parent = audit.opts() as { json?: boolean; home?: string; node?: string };
      const json = opts.json === true || parent.json === true;
      const home = opts.home ?? parent.home;
      const keys = nodeKeys({ ...opts, ...(home === undefined ? {} : { home }) });
      const { entries, head } = verifyAuditFile(join(opts.dataDir, AUDIT_LOG_FILE), keys);
      const committed =
        opts.institution === undefined ? undefined : await committedHead(parent.node, opts.institution);
      checkCommittedHead(entries, committed ?? undefined);
      const signedBy = head?.publicKey ?? null;
      const out = {
        ok: true,
        entries: entries.length,
        head: head ?? null,
        signedBy,
        keyChecked: keys !== undefined,
        ...(committed === undefined ? {} : { committed }),
      };
      emit(io, json, out, () => {
        const t = `audit log ok: ${entries.length} entries, hash chain and head agree\n${onChainLine(committed)}`;
        if (signedBy === null) return `${t}the head is not signed (a log from before signed heads)\n`;
        return keys === undefined
          ? `${t}head signed by ${signedBy}: give --home or --public-key to check that it is the node's key\n`
          : `${t}head signed by the node's key ${signedBy}\n`;
      });
    });
}

interface VerifyOptions {
  dataDir: string;
  home?: string;
  publicKey?: string[];
  institution?: string;
  json?: boolean;
}

/** The institution's audit head committed on the chain, asked of a node (public route), or null for none. */
async function committedHead(
  node: string | undefined,
  institution: string,
): Promise<CommittedAuditHead | null> {
  const client = new ApiClient(nodeUrl(node));
  const r = await client.get<{ committed: CommittedAuditHead | null }>(
    `/v1/audit-heads/${encodeURIComponent(institution)}`,
  );
  return r.body.committed === null ? null : { seq: r.body.committed.seq, hash: r.body.committed.hash };
}

function onChainLine(committed: CommittedAuditHead | null | undefined): string {
  if (committed === undefined) return '';
  return committed === null
    ? 'no audit head of this node is committed on the chain yet\n'
    : `the log holds the audit head committed on the chain (entry ${committed.seq})\n`;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** The public keys the head must be signed by: --public-key, and the home's validator key file. */
function nodeKeys(opts: { home?: string; publicKey?: string[] }): Uint8Array[] | undefined {
  const keys: Uint8Array[] = [];
  for (const hex of opts.publicKey ?? []) {
    const k = tryFromHex(hex);
    if (k?.length !== 32 && k?.length !== 65)
      throw new UsageError('--public-key must be 32 (Ed25519) or 65 (SM2) bytes of hex');
    keys.push(k);
  }
  if (opts.home !== undefined) {
    // The public key is in clear in plain and encrypted key files alike: no passphrase needed.
    const file = join(opts.home, HOME_FILES.validatorKey);
    let pub: Uint8Array | undefined;
    try {
      pub = tryFromHex(JSON.parse(readFileSync(file, 'utf8')).publicKey);
    } catch {
      pub = undefined;
    }
    if (pub?.length !== 32 && pub?.length !== 65)
      throw new UsageError(`${file} is not a readable validator key file`);
    keys.push(pub);
  }
  return keys.length === 0 ? undefined : keys;
}
