import type { Command } from 'commander';
import { toHex } from '../core/bytes.ts';
import { digest } from '../core/crypto.ts';
import { loadGenesisFile } from '../core/genesis-file.ts';
import { laterChainAlgs } from '../receipt/archive-check.ts';
import { verifyReceipt } from '../receipt/receipt.ts';
import type { HashAlg as ErsHashAlg } from '../timestamp/oids.ts';
import { ApiClient, nodeUrl } from './client.ts';
import { digestOf } from './evidence.ts';
import { hashFile } from './files.ts';
import { type CliIo, ExitCode, emit } from './io.ts';
import { AT_OPTION_HELP, formatVerification, readInputFile, verificationTime } from './receipt.ts';

/** The file's hashes under the algorithms of the receipts' hash-tree renewed chains (ADR 018), so they are checked. */
async function chainDigestsOf(
  path: string,
  receipts: unknown[],
): Promise<Partial<Record<ErsHashAlg, Uint8Array>>> {
  const out: Partial<Record<ErsHashAlg, Uint8Array>> = {};
  for (const alg of new Set(receipts.flatMap(laterChainAlgs))) {
    // node:crypto may be built without SM3: core/crypto.ts falls back to its own code.
    out[alg] =
      alg === 'sm3' ? digest('sm3', readInputFile(path, 'evidence file')) : (await hashFile(path, alg)).hash;
  }
  return out;
}

export function registerEvidenceVerifyCommand(evidence: Command, io: CliIo): void {
  evidence
    .command('verify')
    .description(
      'hash a file locally, fetch the receipts of its records from a node, and verify each one offline\n' +
        'against the genesis you trust (not the node), replaying the governance changes each receipt carries.\n' +
        'Says whether the evidence is proven and since when\n' +
        '(block time and RFC 3161 time). Exits 0 only when it is proven.',
    )
    .argument('<file>', 'the evidence file')
    .requiredOption('--genesis <file>', 'the genesis of the chain, from a source you trust')
    .option('--tsa-ca <pem>', 'TSA root certificate(s), PEM (default: the genesis trust anchors)')
    .option('--node <url>', 'node API URL (default: $JRCHAIN_NODE or http://127.0.0.1:8100)')
    .option('--at <time>', AT_OPTION_HELP)
    .option('--json', 'print machine-readable JSON')
    .action(
      async (
        file: string,
        opts: { genesis: string; tsaCa?: string; node?: string; at?: string; json?: boolean },
      ) => {
        const at = verificationTime(opts.at);
        const genesis = loadGenesisFile(opts.genesis);
        const tsaTrustAnchorsPem =
          opts.tsaCa !== undefined ? readInputFile(opts.tsaCa, 'TSA CA').toString('utf8') : undefined;
        const d = await digestOf(file);
        const hashHex = toHex(d.hash);
        const client = new ApiClient(nodeUrl(opts.node));
        const r = await client.get<{ receipts: unknown[] }>(`/v1/receipts/${hashHex}`, [404]);
        const receipts = r.status === 404 ? [] : r.body.receipts;
        const chainDigests = d.file !== undefined ? await chainDigestsOf(d.file, receipts) : undefined;
        const results = await Promise.all(
          receipts.map((doc) =>
            verifyReceipt(doc, {
              genesis,
              fileDigest: { hashAlg: d.hashAlg, hash: d.hash },
              chainDigests,
              ...(tsaTrustAnchorsPem !== undefined ? { tsaTrustAnchorsPem } : {}),
              at,
            }),
          ),
        );
        // Proven only when the node returned records and every receipt verifies: a node that serves a bad
        // receipt next to a good one is itself evidence of a problem worth a non-zero exit.
        const proven = results.length > 0 && results.every((v) => v.ok);
        const earliest = results
          .flatMap((v) => (v.facts ? [v.facts] : []))
          .sort((a, b) => a.blockTime.getTime() - b.blockTime.getTime())[0];
        emit(
          io,
          opts.json === true,
          { file, hashAlg: d.hashAlg, hash: hashHex, proven, earliest, results },
          () => {
            if (results.length === 0)
              return `NOT PROVEN: ${file} (${d.hashAlg}:${hashHex}) was never recorded on this chain\n`;
            const parts = results.map(
              (v, i) => `receipt ${i + 1} of ${results.length}\n${formatVerification(v)}`,
            );
            parts.push(
              proven
                ? `PROVEN: ${file} is recorded ${results.length} time(s); earliest in block ${earliest!.height} at ` +
                    `${earliest!.blockTime.toISOString()}${earliest!.anchoredAt ? `, existed no later than ${earliest!.anchoredAt.toISOString()} (TSA)` : ''}\n`
                : `NOT PROVEN: ${results.filter((v) => !v.ok).length} of ${results.length} receipt(s) failed verification\n`,
            );
            return parts.join('\n');
          },
        );
        if (!proven) io.setExit(ExitCode.failed);
      },
    );
}
