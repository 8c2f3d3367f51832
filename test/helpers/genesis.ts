/** A deterministic test alliance: n institutions, each with a validator key and one client key. */
import { toHex } from '../../src/core/bytes.ts';
import type { Ed25519Signer } from '../../src/core/crypto.ts';
import { GENESIS_FORMAT, type Genesis, parseGenesis } from '../../src/core/genesis.ts';
import type { ConsensusParams } from '../../src/core/params.ts';
import { testSigner } from './fixtures.ts';

export interface TestAlliance {
  genesis: Genesis;
  json: Record<string, unknown>;
  validators: Ed25519Signer[];
  clients: Ed25519Signer[];
}

export function testGenesisJson(n = 4, consensus: Partial<ConsensusParams> = {}): Record<string, unknown> {
  return {
    format: GENESIS_FORMAT,
    chainId: 'jrchain-test',
    createdAt: '2026-01-01T00:00:00.000Z',
    institutions: Array.from({ length: n }, (_, i) => ({
      id: `bank-${i}`,
      name: `Bank ${i}`,
      clientKeys: [{ keyId: 'client-1', publicKey: toHex(testSigner(`bank-${i}/client-1`).publicKey) }],
    })),
    validators: Array.from({ length: n }, (_, i) => ({
      institution: `bank-${i}`,
      publicKey: toHex(testSigner(`validator-${i}`).publicKey),
      addrs: [`/ip4/127.0.0.1/tcp/${17100 + i}`],
    })),
    consensus,
  };
}

export function testAlliance(n = 4, consensus: Partial<ConsensusParams> = {}): TestAlliance {
  const json = testGenesisJson(n, consensus);
  return {
    genesis: parseGenesis(json),
    json,
    validators: Array.from({ length: n }, (_, i) => testSigner(`validator-${i}`)),
    clients: Array.from({ length: n }, (_, i) => testSigner(`bank-${i}/client-1`)),
  };
}
