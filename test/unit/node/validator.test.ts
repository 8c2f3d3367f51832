/** ValidatorService checks its identity and limits before anything runs (the network tests cover the rest). */
import { afterEach, describe, expect, it } from 'vitest';
import { isJrError } from '../../../src/core/errors.ts';
import { NO_VALIDATOR_REACHABLE, ValidatorErrorCode, ValidatorService } from '../../../src/node/validator.ts';
import { DEFAULT_PROTOCOLS, ProtocolId } from '../../../src/p2p/index.ts';
import { genesis } from '../../helpers/ledger.ts';
import { liveTxs, validatorKey, validatorOptions } from '../../helpers/validators.ts';

const services: ValidatorService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
});

const options = validatorOptions;

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    const s = await p;
    if (s instanceof ValidatorService) services.push(s);
  } catch (err) {
    if (isJrError(err)) return err.code;
    throw err;
  }
  return undefined;
}

describe('ValidatorService.create', () => {
  it("refuses another institution's validator key; a key outside the set follows the chain", async () => {
    // bank-b's key, claimed for an unknown institution and for bank-c: the key's own institution decides.
    expect(await codeOf(ValidatorService.create(await options({ institution: 'bank-z' })))).toBe(
      ValidatorErrorCode.keyMismatch,
    );
    expect(await codeOf(ValidatorService.create(await options({ institution: 'bank-c' })))).toBe(
      ValidatorErrorCode.keyMismatch,
    );
    // A key outside the set in force (a validator governance has yet to add) follows the chain: no vote;
    // reaching no validator, it has nobody to relay a tx to.
    const outsider = await ValidatorService.create(
      await options({ key: validatorKey(9), institution: 'bank-z' }),
    );
    services.push(outsider);
    await outsider.start();
    expect(outsider.isPrimary()).toBe(false);
    const r = await outsider.submit(liveTxs(1, 'outsider')[0]!);
    expect(r.status === 'rejected' && r.rejection.code).toBe(NO_VALIDATOR_REACHABLE);
  });

  it('refuses a chain opened with another genesis', async () => {
    const other = genesis();
    const g = { ...other, chainId: `${other.chainId}-other` };
    expect(await codeOf(ValidatorService.create(await options({ genesis: g })))).toBe(
      ValidatorErrorCode.config,
    );
  });

  it('refuses limits that cannot carry the largest batch, or a mempool larger than the core holds', async () => {
    const small = DEFAULT_PROTOCOLS.map((p) =>
      p.id === ProtocolId.sync && p.kind === 'request' ? { ...p, maxResponseBytes: 1024 * 1024 } : p,
    );
    expect(await codeOf(ValidatorService.create(await options({ limits: { protocols: small } })))).toBe(
      ValidatorErrorCode.config,
    );
    const pool = { mempool: { maxTxs: 10 }, consensus: { maxPendingTxs: 5 } };
    expect(await codeOf(ValidatorService.create(await options({ limits: pool })))).toBe(
      ValidatorErrorCode.config,
    );
  });

  it('reports a status before it starts, refuses a second start, and stops once', async () => {
    const s = await ValidatorService.create(await options());
    services.push(s);
    expect(s.status()).toMatchObject({
      height: 0,
      view: 0,
      primary: 0,
      isPrimary: false,
      quorum: 3,
      pendingTxs: 0,
      suspicions: { stall: 0, censorship: 0 },
    });
    expect(s.p2pAddrs()).toEqual([]);
    expect(s.isPrimary()).toBe(false);
    const early = await s.submit(liveTxs(1, 'early')[0]!);
    expect(early.status === 'rejected' && early.rejection.code).toBe('MEMPOOL_NOT_STARTED');
    const earlyMany = await s.submitMany(liveTxs(2, 'early-many'));
    expect(earlyMany.map((r) => r.status === 'rejected' && r.rejection.code)).toEqual([
      'MEMPOOL_NOT_STARTED',
      'MEMPOOL_NOT_STARTED',
    ]);
    await s.start();
    expect(s.p2pAddrs()).toHaveLength(1);
    expect(await codeOf(s.start())).toBe(ValidatorErrorCode.lifecycle);
    await Promise.all([s.stop(), s.stop()]);
    const r = await s.submit(liveTxs(1, 'stopped')[0]!);
    expect(r.status === 'rejected' && r.rejection.code).toBe('MEMPOOL_STOPPED');
  });
});
