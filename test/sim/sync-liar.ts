/**
 * A lying state-sync peer for the production-ledger world (ledger-world.ts): it rewrites the answers of its
 * honest SyncServer. Status: a head claimed higher than its certificate, or a head from another validator set
 * (another epoch) under the real certificate. Blocks: the last block truncated (a tx dropped), the blocks
 * reordered, or the certificates of two blocks swapped. The client must catch every lie as a fault except the
 * other-epoch head, which by design (ADR 006) is no fault but counts only once f+1 peers claim such heads: one
 * liar must never make an honest node follow it.
 */
import { headerHash } from '../../src/core/block.ts';
import {
  decodeBlocksResponse,
  decodeStatusResponse,
  decodeSyncRequest,
  encodeBlocksResponse,
  encodeStatusResponse,
  encodeSyncBlock,
  type SyncBlock,
} from '../../src/node/net/sync-messages.ts';
import type { Prng } from './prng.ts';

export type SyncLie = 'forged-height' | 'other-epoch' | 'truncated' | 'reordered' | 'swapped-certs';

export const SYNC_LIES: readonly SyncLie[] = [
  'forged-height',
  'other-epoch',
  'truncated',
  'reordered',
  'swapped-certs',
];

/** Rewrites one response; returns it unchanged when the chosen lie does not apply (e.g. at genesis). */
export function lieAbout(
  request: Uint8Array,
  response: Uint8Array,
  lies: readonly SyncLie[],
  rng: Prng,
): Uint8Array {
  const req = decodeSyncRequest(request);
  const lie = rng.pick([...lies]);
  if (req.kind === 'status') {
    const s = decodeStatusResponse(response);
    if (s.head === undefined) return response;
    if (lie === 'forged-height') {
      const header = { ...s.head.header, height: s.head.header.height + 3 };
      return encodeStatusResponse({ ...s, height: s.height + 3, head: { header, cert: s.head.cert } });
    }
    if (lie === 'other-epoch') {
      const validatorSetHash = s.head.header.validatorSetHash.slice();
      validatorSetHash[0]! ^= 0xff;
      const header = { ...s.head.header, validatorSetHash };
      const cert = { ...s.head.cert, headerHash: headerHash(header) };
      return encodeStatusResponse({ ...s, head: { header, cert } });
    }
    return response;
  }
  if (req.kind !== 'blocks') return response;
  const blocks = decodeBlocksResponse(response);
  if (blocks.length < 2 && lie !== 'truncated') return response;
  let out: SyncBlock[] = blocks;
  if (lie === 'truncated') {
    const last = blocks.at(-1);
    if (last === undefined || last.txs.length === 0) return response;
    out = [...blocks.slice(0, -1), { ...last, txs: last.txs.slice(0, -1) }];
  } else if (lie === 'reordered') out = [...blocks].reverse();
  else if (lie === 'swapped-certs') {
    out = [...blocks];
    out[0] = { ...blocks[0]!, cert: blocks[1]!.cert };
    out[1] = { ...blocks[1]!, cert: blocks[0]!.cert };
  } else return response;
  return encodeBlocksResponse(out.map((b) => encodeSyncBlock(b.header, b.cert, b.txs)));
}
