/**
 * Governance txs for cluster scenarios and benchmarks (ADR 006), without the test runner: a tx signed with a
 * validator's key file, posted to a node's API, and the registry a node serves.
 */
import { join } from 'node:path';
import { encodeGovernance, type GovernanceRecord } from '../../../src/core/governance.ts';
import { type KeyPair, readKeyFile } from '../../../src/core/keys.ts';
import { envelope, signTx, type TxEnvelope, VALIDATOR_KEY_ID } from '../../../src/core/tx.ts';
import { HOME_FILES } from '../../../src/node/home.ts';
import type { Cluster } from './cluster.ts';
import { getJson } from './http.ts';

export interface GovJson {
  validatorSet: {
    epoch: number;
    n: number;
    f: number;
    quorum: number;
    validators: { institution: string }[];
  };
  proposals: { id: string; status: string; effectiveHeight: number | null }[];
  institutions: { id: string; clientKeys: Record<string, string> }[];
}

export const validatorKeyOf = (c: Cluster, i: number) =>
  readKeyFile(join(c.nodes[i]!.home, HOME_FILES.validatorKey));

export function govTx(c: Cluster, institution: string, key: KeyPair, g: GovernanceRecord): TxEnvelope {
  return envelope(
    signTx(
      {
        chainId: c.genesis.chainId,
        type: 'governance',
        institution,
        keyId: VALIDATOR_KEY_ID,
        nonce: 0,
        createdAt: Date.now(),
        ttlMs: 10 * 60_000,
        payload: encodeGovernance(g),
      },
      key.signer,
    ),
  );
}

export async function post(
  c: Cluster,
  i: number,
  tx: TxEnvelope,
): Promise<{ status: number; code?: string }> {
  const r = await fetch(`${c.nodes[i]!.apiUrl}/v1/txs`, {
    method: 'POST',
    body: tx.bytes,
    headers: { 'content-type': 'application/octet-stream' },
  });
  const body = (await r.json()) as { code?: string };
  return { status: r.status, ...(body.code ? { code: body.code } : {}) };
}

export const gov = (c: Cluster, i: number) => getJson<GovJson>(`${c.nodes[i]!.apiUrl}/v1/governance`);
