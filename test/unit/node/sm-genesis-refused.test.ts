/**
 * Until the node is wired for other suites (ADR 014, "What is not wired yet"), it refuses an sm2-sm3 genesis
 * with a clear CONFIG_INVALID instead of starting and hashing with the wrong suite.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair, writeKeyFile } from '../../../src/core/keys.ts';
import { ConfigError, defaultConfig } from '../../../src/node/config.ts';
import { loadIdentity } from '../../../src/node/node.ts';
import { testGenesisJson } from '../../helpers/fixtures.ts';
import { smGenesisJson } from '../../helpers/sm-chain.ts';

const home = mkdtempSync(join(tmpdir(), 'jrchain-sm-node-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('a node and an sm2-sm3 genesis', () => {
  writeKeyFile(join(home, 'validator.key'), generateKeyPair());
  const config = defaultConfig(home, 'bank-a');

  it('refuses it with CONFIG_INVALID naming the suite', () => {
    writeFileSync(join(home, 'genesis.json'), JSON.stringify(smGenesisJson()));
    expect(() => loadIdentity(config)).toThrow(ConfigError);
    expect(() => loadIdentity(config)).toThrow(
      /crypto suite sm2-sm3; this node runs ed25519-sha256 chains only/,
    );
  });

  it('loads an Ed25519 genesis as before', () => {
    writeFileSync(join(home, 'genesis.json'), JSON.stringify(testGenesisJson()));
    const { genesis } = loadIdentity(config);
    expect(genesis.chainId).toBe('jrchain-test');
  });
});
