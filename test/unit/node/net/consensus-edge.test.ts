import { describe, expect, it } from 'vitest';
import {
  type ConsensusMessage,
  encodeMessage,
  type NewView,
  type Prepare,
  withSignature,
} from '../../../../src/consensus/messages.ts';
import { utf8 } from '../../../../src/core/bytes.ts';
import { sha256, verifySignature } from '../../../../src/core/crypto.ts';
import { genesisValidatorSet } from '../../../../src/core/genesis.ts';
import {
  checkConsensusFrame,
  type EdgeContext,
  EdgeDropReason,
} from '../../../../src/node/net/consensus-transport.ts';
import { testGenesis, validatorSigners } from '../../../helpers/fixtures.ts';

const g = testGenesis();
const signers = validatorSigners();
const ctx: EdgeContext = {
  chainId: g.chainId,
  set: genesisValidatorSet(g),
  self: 0,
  verify: verifySignature,
};

function prepare(from: number, overrides: Partial<Prepare> = {}): Prepare {
  return withSignature<Prepare>(
    {
      type: 'prepare',
      chainId: g.chainId,
      from,
      view: 0,
      seq: 1,
      digest: sha256(utf8.encode('d')),
      ...overrides,
    },
    (d, b) => signers[from]!.sign(d, b),
  );
}

/** A NEW-VIEW whose contents the edge does not judge (the core does): only its outer signature matters here. */
function newView(from: number): NewView {
  return withSignature<NewView>(
    { type: 'newView', chainId: g.chainId, from, view: 1, viewChanges: [], prePrepares: [] },
    (d, b) => signers[from]!.sign(d, b),
  );
}

const frame = (m: ConsensusMessage) => encodeMessage(m);

describe('the consensus edge pipeline', () => {
  it('passes a well-formed message signed by the validator that sent it, decoded', () => {
    const r = checkConsensusFrame(frame(prepare(2)), 2, ctx);
    expect(r.ok && r.message.type).toBe('prepare');
  });

  it.each([
    [EdgeDropReason.notValidator, () => checkConsensusFrame(frame(prepare(2)), undefined, ctx)],
    [EdgeDropReason.malformed, () => checkConsensusFrame(new Uint8Array([1, 2, 3]), 2, ctx)],
    [EdgeDropReason.malformed, () => checkConsensusFrame(new Uint8Array([...frame(prepare(2)), 0]), 2, ctx)],
    [
      EdgeDropReason.wrongChain,
      () => checkConsensusFrame(frame(prepare(2, { chainId: 'other-chain' })), 2, ctx),
    ],
    [EdgeDropReason.unknownSender, () => checkConsensusFrame(frame({ ...prepare(2), from: 9 }), 2, ctx)],
    [EdgeDropReason.senderMismatch, () => checkConsensusFrame(frame(prepare(2)), 3, ctx)],
    [
      EdgeDropReason.badSignature,
      () => checkConsensusFrame(frame({ ...prepare(2), signature: new Uint8Array(64) }), 2, ctx),
    ],
    [EdgeDropReason.badSignature, () => checkConsensusFrame(frame({ ...prepare(2), seq: 2 }), 2, ctx)],
    [EdgeDropReason.fromSelf, () => checkConsensusFrame(frame(newView(0)), 2, ctx)],
  ] as const)('drops: %s', (reason, run) => {
    const r = run();
    expect(r.ok ? 'ok' : r.reason).toBe(reason);
  });

  it('lets any validator relay a NEW-VIEW (it carries the new primary signature), but nothing else', () => {
    expect(checkConsensusFrame(frame(newView(1)), 3, ctx).ok).toBe(true);
    const r = checkConsensusFrame(frame(prepare(1)), 3, ctx);
    expect(r.ok ? 'ok' : r.reason).toBe(EdgeDropReason.senderMismatch);
  });

  it('checks the cheap things first: an impersonated sender costs no signature check', () => {
    let verified = 0;
    const counting: EdgeContext = {
      ...ctx,
      verify: (...args) => {
        verified++;
        return verifySignature(...args);
      },
    };
    checkConsensusFrame(frame(prepare(2)), 3, counting);
    checkConsensusFrame(frame(prepare(2, { chainId: 'other-chain' })), 2, counting);
    expect(verified).toBe(0);
  });
});
