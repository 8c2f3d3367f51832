/**
 * The node's wiring of hash-tree renewal (ADR 018): a whole JrNode (ledger, validator, anchoring, API) with an
 * HTTP TSA on loopback. Evidence recorded with `jrchain evidence submit` is archived by an anchor; then
 * `jrchain evidence renew-hash` asks for a SHA-512 renewal, the node's primary stamps it, and the node's export
 * carries the second chain; `jrchain evidence verify` checks both chains from the file.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { JrNode } from '../../../src/node/node.ts';
import { decodeEvidenceRecord } from '../../../src/timestamp/ers-asn1.ts';
import { cli } from '../../helpers/cli-memory.ts';
import { oneNodeHome } from '../../helpers/one-node-home.ts';
import { waitFor } from '../../helpers/wait.ts';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
}, 60_000);

/** The chains' digest algorithms of the node's export of `hashHex`, or undefined before one exists. */
async function exportedChains(apiUrl: string, hashHex: string): Promise<string[] | undefined> {
  const r = await fetch(`${apiUrl}/v1/evidence-records/${hashHex}`);
  if (r.status !== 200) return undefined;
  const { ers } = (await r.json()) as { ers: string };
  return decodeEvidenceRecord(Buffer.from(ers, 'base64')).chains.map((c) => c[0]!.digestAlg);
}

describe('a JrNode and hash-tree renewal', () => {
  it('stamps a request made with `evidence renew-hash`; its export and receipt carry the SHA-512 chain', async () => {
    const { home, config, lines, logger } = await oneNodeHome('renew-node', cleanups);
    const node = await JrNode.open(config, logger());
    cleanups.push(() => node.stop());
    const { apiUrl } = await node.start();
    const why = async (err: Error) => {
      const st = await (await fetch(`${apiUrl}/v1/status`)).text();
      throw new Error(`${err.message}; status ${st}; node log ${lines.join('').slice(0, 3000)}`);
    };

    const doc = join(home, 'loan-contract.pdf');
    const content = utf8.encode('loan contract, renewed under SHA-512 by a whole node');
    writeFileSync(doc, content);
    const hashHex = toHex(sha256(content));
    const key = join(home, 'client.key');
    const submitted = await cli(
      ...['evidence', 'submit', doc, '--case', 'CASE-1', '--type', 'contract', '--wait'],
      ...['--key', key, '--node', apiUrl],
    );
    expect(submitted.code, submitted.stderr).toBe(0);
    // The request is stamped only once an anchor has archived the evidence.
    await waitFor(
      async () => (await exportedChains(apiUrl, hashHex))?.length === 1,
      'the archive',
      60_000,
    ).catch(why);

    const renewed = await cli(
      ...['evidence', 'renew-hash', '--file', doc, '--hash', 'sha512', '--wait'],
      ...['--key', key, '--node', apiUrl, '--json'],
    );
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(JSON.parse(renewed.stdout)).toMatchObject({ state: 'requested', hashAlg: 'sha512' });
    await waitFor(
      async () => (await exportedChains(apiUrl, hashHex))?.join() === 'sha256,sha512',
      'the stamped SHA-512 chain in the export',
      60_000,
    ).catch(why);
    const status = (await (await fetch(`${apiUrl}/v1/status`)).json()) as any;
    expect(status.anchor.lastHashRenewal).toMatchObject({ stamped: 1, hashAlg: 'sha512' });

    // The receipt the node serves carries it, and `evidence verify` checks both chains from the file.
    const verified = await cli(
      'evidence',
      'verify',
      doc,
      '--genesis',
      join(home, 'genesis.json'),
      '--node',
      apiUrl,
      '--json',
    );
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    const archive = JSON.parse(verified.stdout).results[0].checks.find((c: any) => c.name === 'archive');
    expect(archive.detail).toContain('chains sha256, sha512');
  }, 120_000);
});
