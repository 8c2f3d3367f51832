/** `npm run devnet -- --observer` prepares a court observer that every validator admits. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGenesisFile } from '../../../src/core/genesis-file.ts';
import { readKeyFile } from '../../../src/core/keys.ts';
import { DEVNET_OBSERVER, prepareDevnet } from '../../../src/dev/devnet.ts';
import { loadConfig } from '../../../src/node/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-devnet-observer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('devnet --observer', () => {
  it('adds court-a to the genesis without a validator, and every validator admits its node', async () => {
    const options = {
      dir,
      validators: 4,
      basePort: 27101,
      apiBasePort: 28101,
      tsaPort: 28300,
      logFormat: 'json' as const,
      out: () => undefined,
      observer: true,
    };
    const layout = await prepareDevnet(options);
    expect(layout.observer).toBe(true);
    const genesis = loadGenesisFile(join(dir, 'genesis.json'));
    expect(genesis.validators.map((v) => v.institution)).toEqual(['bank-a', 'bank-b', 'bank-c', 'bank-d']);
    expect(genesis.institutions.find((i) => i.id === DEVNET_OBSERVER)?.role).toBe('court');
    const home = join(dir, DEVNET_OBSERVER);
    expect(existsSync(join(home, 'genesis.json'))).toBe(true);
    const observer = loadConfig(home, {}, {});
    expect(observer.api.port).toBe(28105);
    const member = JSON.parse(readFileSync(join(home, 'member.json'), 'utf8'));
    expect(member.validator).toBeUndefined();
    const peerIds = ['bank-a', 'bank-b', 'bank-c', 'bank-d'].map(
      (id) => loadConfig(join(dir, id), {}, {}).p2p.observers,
    );
    expect(new Set(peerIds.map((p) => JSON.stringify(p))).size).toBe(1);
    expect(peerIds[0]).toHaveLength(1);
    expect(peerIds[0]![0]).toBe(readKeyFile(join(home, 'validator.key')).peerId);
    // A second run resumes the layout, observer included.
    expect((await prepareDevnet({ ...options, observer: false })).observer).toBe(true);
  });
});
