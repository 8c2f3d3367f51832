/**
 * `jrchain evidence renew-hash`: the recording institution asks the ledger for a hash-tree renewal of a
 * document (ADR 016). The document is hashed locally under SHA-256 (to find its record) and under the new hash
 * H'; only H'(document) goes to the node, in a `hash-renewal` tx signed with the institution's client key.
 * Retry-safe like `evidence submit`: the nonce derives from (institution, evidence tx).
 */

import type { Command } from 'commander';
import { Option } from 'commander';
import { fromHex, toHex, tryFromHex, utf8 } from '../core/bytes.ts';
import { sha256 } from '../core/crypto.ts';
import { cryptoSuite } from '../core/crypto-suite.ts';
import { encodeHashRenewal, type RenewalHashAlg, RenewalHashAlgs } from '../core/hash-renewal.ts';
import { envelope, signTx, type TxEnvelope } from '../core/tx.ts';
import { ApiClient, nodeUrl, toError } from './client.ts';
import { type Identity, resolveIdentity, send } from './evidence.ts';
import { hashFile } from './files.ts';
import { CliError, CliErrorCode, type CliIo, ExitCode, emit, UsageError } from './io.ts';

const TX_TTL_MS = 10 * 60 * 1000;

/** Same (institution, evidence tx) -> same nonce: a rerun cannot ask twice, and the ledger refuses twice anyway. */
export function hashRenewalNonce(institution: string, evidenceTx: Uint8Array): number {
  const d = sha256(utf8.encode(`jrchain/hash-renewal-nonce/v1\0${institution}\0`), evidenceTx);
  return Number(BigInt(`0x${toHex(d.subarray(0, 7))}`) & ((1n << 53n) - 1n));
}

export function hashRenewalTx(
  id: Identity,
  evidenceTx: Uint8Array,
  hashAlg: RenewalHashAlg,
  hash: Uint8Array,
  now = Date.now(),
): TxEnvelope {
  return envelope(
    signTx(
      {
        chainId: id.chainId,
        type: 'hash-renewal',
        institution: id.institution,
        keyId: id.keyId,
        nonce: hashRenewalNonce(id.institution, evidenceTx),
        createdAt: now,
        ttlMs: TX_TTL_MS,
        payload: encodeHashRenewal({ evidenceTx, hashAlg, hash }),
      },
      id.key.signer,
    ),
    cryptoSuite(id.key.suite),
  );
}

interface Options {
  file: string;
  tx?: string;
  hash: RenewalHashAlg;
  wait?: boolean;
  key: string;
  institution?: string;
  keyId?: string;
  node?: string;
  json?: boolean;
}

/** The evidence tx of `institution` that recorded the document: `--tx`, or its only record. */
async function recordOf(
  client: ApiClient,
  institution: string,
  sha: Uint8Array,
  tx?: string,
): Promise<string> {
  const r = await client.get<{ records: { txHash: string; institution: string }[] }>(
    `/v1/evidence/${toHex(sha)}?limit=1000`,
  );
  const own = r.body.records.filter((x) => x.institution === institution).map((x) => x.txHash);
  if (tx !== undefined) {
    if (own.includes(tx)) return tx;
    throw new CliError(CliErrorCode.notRecorded, `tx ${tx} is no record of this document by ${institution}`);
  }
  if (own.length === 1) return own[0]!;
  throw new CliError(
    CliErrorCode.notRecorded,
    own.length === 0
      ? `${institution} has not recorded this document (sha256 ${toHex(sha)}); only the recorder may renew it`
      : `${institution} recorded this document ${own.length} times (txs ${own.join(', ')}): choose one with --tx`,
  );
}

async function renewHash(opts: Options, io: CliIo): Promise<void> {
  if (opts.tx !== undefined && (tryFromHex(opts.tx) === undefined || opts.tx.length !== 64)) {
    throw new UsageError('--tx must be a tx hash: 64 hex digits');
  }
  const sha = (await hashFile(opts.file)).hash;
  const strong = (await hashFile(opts.file, opts.hash)).hash;
  const client = new ApiClient(nodeUrl(opts.node));
  const id = await resolveIdentity(client, opts.key, opts.institution, opts.keyId);
  const evidenceTx = await recordOf(client, id.institution, sha, opts.tx?.toLowerCase());
  const env = hashRenewalTx(id, fromHex(evidenceTx), opts.hash, strong);
  const r = await send(client, env, opts.wait === true);
  const body = r.body as { status?: string; height?: number; code?: string };
  const base = { file: opts.file, evidenceTx, hashAlg: opts.hash, hash: toHex(strong), txHash: env.hashHex };
  let out: Record<string, unknown>;
  if (r.status === 200 && body.status === 'committed')
    out = { ...base, state: 'requested', height: body.height };
  else if (r.status === 202) out = { ...base, state: 'submitted' };
  else if (
    r.status === 422 &&
    (body.code === 'TX_RENEWAL_ALREADY_REQUESTED' ||
      body.code === 'TX_REPLAYED_NONCE' ||
      body.code === 'TX_DUPLICATE')
  ) {
    out = { ...base, state: 'already-requested' };
  } else {
    const err = toError(r);
    out = { ...base, state: 'failed', error: { code: err.code, message: err.message } };
    io.setExit(ExitCode.failed);
  }
  emit(io, opts.json === true, out, () => {
    const e = out.error as { code: string; message: string } | undefined;
    const why = e === undefined ? '' : ` [${e.code}] ${e.message}`;
    return `${String(out.state)}: ${opts.hash} renewal of ${opts.file} (evidence tx ${evidenceTx}) tx ${env.hashHex}${why}\n`;
  });
}

export function registerRenewHashCommand(evidence: Command, io: CliIo): void {
  evidence
    .command('renew-hash')
    .description(
      'ask the ledger for a hash-tree renewal (RFC 4998 5.2) of a document this institution recorded: hashes\n' +
        'the file locally under a stronger hash and submits only that hash, signed by the client key. Once\n' +
        'committed, the primary stamps it (docs/long-term.md). Safe to re-run.',
    )
    .requiredOption('--file <doc>', 'the recorded document')
    .option(
      '--tx <hash>',
      'the evidence tx to renew, when the institution recorded the document more than once',
    )
    .addOption(new Option('--hash <alg>', 'the new hash').choices([...RenewalHashAlgs]).default('sha512'))
    .option('--wait', 'wait until the request is committed')
    .requiredOption('--key <file>', 'institution client key file')
    .option('--institution <id>', 'institution id (default: looked up from the key in the genesis)')
    .option('--key-id <id>', 'key id (default: looked up from the key in the genesis)')
    .option('--node <url>', 'node API URL (default: $JRCHAIN_NODE or http://127.0.0.1:8100)')
    .option('--json', 'print machine-readable JSON')
    .action((opts: Options) => renewHash(opts, io));
}
