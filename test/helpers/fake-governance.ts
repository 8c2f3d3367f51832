/**
 * Passes a governance action on a fake node (test/helpers/fake-node.ts): validator 0 proposes, validators 1 and
 * 2 approve, each step committed. Nonces come from `nonces`, which the caller keeps across calls.
 */
import { expect } from 'vitest';
import type { GovernanceAction } from '../../src/core/governance.ts';
import type { FakeNode } from './fake-node.ts';
import { governanceTx } from './fixtures.ts';

export async function governOnFakeNode(
  node: FakeNode,
  action: GovernanceAction,
  nonces: { next: number },
): Promise<void> {
  const createdAt = Date.now();
  const deadline = createdAt + 3_600_000;
  const p = governanceTx({ kind: 'propose', deadline, action }, { nonce: nonces.next++, createdAt });
  expect(await node.consensus.submit(p)).toBeUndefined();
  await node.commit();
  for (const v of [1, 2]) {
    const a = governanceTx(
      { kind: 'approve', proposalId: p.hash },
      { validator: v, nonce: nonces.next++, createdAt },
    );
    expect(await node.consensus.submit(a)).toBeUndefined();
  }
  await node.commit();
}
