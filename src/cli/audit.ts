/** `jrchain audit`: the node's audit log of case-data reads, as the institution concerned may see it. */
import { join } from 'node:path';
import type { Command } from 'commander';
import { AUDIT_LOG_FILE, verifyAuditFile } from '../api/audit.ts';
import { caseNameOnChain, HOME_OPTION, KEY_OPTION, signedClient } from './case-query.ts';
import { CASE_KEYS_OPTION } from './case-sealing.ts';
import { type CliIo, emit } from './io.ts';

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
      const name = opts.case === undefined ? undefined : caseNameOnChain(opts.case, opts).name;
      const q = name === undefined ? '' : `?case=${encodeURIComponent(name)}`;
      const r = await (await signedClient(opts)).get<{ entries: AuditEntryJson[] }>(`/v1/audit${q}`);
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
      "check a node's audit log offline: the hash chain of its entries, and that it still ends at the head\n" +
        'recorded beside it (a log cut at its tail fails)',
    )
    .requiredOption('--data-dir <dir>', "the node's data directory (holding audit.log)")
    .option('--json', 'print machine-readable JSON')
    .action((opts: { dataDir: string; json?: boolean }) => {
      const { entries, head } = verifyAuditFile(join(opts.dataDir, AUDIT_LOG_FILE));
      const out = { ok: true, entries: entries.length, head: head ?? null };
      emit(
        io,
        opts.json === true,
        out,
        () => `audit log ok: ${entries.length} entries, hash chain and head agree\n`,
      );
    });
}
