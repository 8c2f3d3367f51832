/** Deterministic simulated transactions: real canonical encodings, placeholder signatures. */
import { utf8 } from '../../src/core/bytes.ts';
import { envelope, type TxEnvelope } from '../../src/core/tx.ts';

export const SIM_CHAIN_ID = 'jrchain-sim';

/** Tx number `nonce` of client `client`; `tag` makes a different tx with the same client and nonce. */
export function simTx(client: number, nonce: number, tag = ''): TxEnvelope {
  return envelope({
    chainId: SIM_CHAIN_ID,
    type: 'evidence',
    institution: `client-${client}`,
    keyId: 'k1',
    nonce,
    createdAt: 1_780_000_000_000,
    ttlMs: 3_600_000,
    payload: utf8.encode(`evidence ${client}/${nonce}${tag}`),
    signature: new Uint8Array(64),
  });
}

/** The simulation's governance stand-in: once committed in block p, the set of these key ids rules from p + 1. */
export function reconfigTx(members: readonly number[], tag: string): TxEnvelope {
  return envelope({
    chainId: SIM_CHAIN_ID,
    type: 'evidence',
    institution: 'sim-gov',
    keyId: 'k1',
    nonce: 0,
    createdAt: 1_780_000_000_000,
    ttlMs: 3_600_000,
    payload: utf8.encode(`reconfig ${members.join(',')}#${tag}`),
    signature: new Uint8Array(64),
  });
}
