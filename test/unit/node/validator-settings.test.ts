/** resolveSettings: pure, before any component exists (the refusals are in validator.test.ts). */
import { describe, expect, it } from 'vitest';
import { DEFAULT_REPLICA_OPTIONS } from '../../../src/consensus/types.ts';
import { DEFAULT_MEMPOOL_LIMITS } from '../../../src/node/mempool.ts';
import { resolveSettings } from '../../../src/node/validator-settings.ts';
import { DEFAULT_PROTOCOLS, ProtocolId } from '../../../src/p2p/index.ts';
import { genesis } from '../../helpers/ledger.ts';
import { validatorKey, validatorOptions } from '../../helpers/validators.ts';

const options = validatorOptions;

describe('resolveSettings', () => {
  it("fills the defaults under the caller's limits and finds this key in the set in force", async () => {
    const s = resolveSettings(await options({ limits: { mempool: { maxTxs: 10 }, sweepIntervalMs: 50 } }));
    expect(s.self).toBe(1);
    expect(s.mempool).toEqual({ ...DEFAULT_MEMPOOL_LIMITS, maxTxs: 10 });
    expect(s.replica).toEqual(DEFAULT_REPLICA_OPTIONS);
    expect(s.sweepIntervalMs).toBe(50);
    expect(s.protocols).toBe(DEFAULT_PROTOCOLS);
    const sync = DEFAULT_PROTOCOLS.find((p) => p.id === ProtocolId.sync);
    expect(sync?.kind === 'request' && s.syncResponseBytes).toBe(
      sync?.kind === 'request' && sync.maxResponseBytes,
    );
  });

  it('puts address overrides and observers in the allowlist; a key outside the set has no index', async () => {
    const g = genesis();
    const peerId = g.validators[2]!.peerId;
    const s = resolveSettings(
      await options({
        key: validatorKey(9),
        peerAddrs: { [peerId]: ['/ip4/127.0.0.1/tcp/4242'] },
        observers: ['observer-peer'],
      }),
    );
    expect(s.self).toBeUndefined();
    expect(s.allowlist.validators.find((v) => v.peerId === peerId)?.addrs).toEqual([
      '/ip4/127.0.0.1/tcp/4242',
    ]);
    expect(s.allowlist.validators.find((v) => v.peerId === g.validators[0]!.peerId)?.addrs).toEqual([
      ...g.validators[0]!.addrs,
    ]);
    expect(s.allowlist.observers).toEqual(['observer-peer']);
  });
});
