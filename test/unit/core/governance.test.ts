import { describe, expect, it } from 'vitest';
import { CertErrorCode, headerHash, verifyCommitCertificate } from '../../../src/core/block.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { CodecErrorCode } from '../../../src/core/codec.ts';
import { genesisHash, genesisValidatorSet } from '../../../src/core/genesis.ts';
import {
  decodeGovernance,
  encodeGovernance,
  type GovernanceAction,
  type GovernanceRecord,
} from '../../../src/core/governance.ts';
import { DEFAULT_CONSENSUS_PARAMS } from '../../../src/core/params.ts';
import {
  CONSENSUS_CHAIN_ID_PATTERN,
  consensusChainId,
  decodeValidatorSet,
  encodeValidatorSet,
  validatorSetHash,
} from '../../../src/core/validators.ts';
import { codeOf } from '../../helpers/errors.ts';
import { certify, certifyBy, testGenesis, testSigner, validatorSigners } from '../../helpers/fixtures.ts';

const key = (label: string) => testSigner(label).publicKey;

const actions: GovernanceAction[] = [
  {
    type: 'registerInstitution',
    id: 'bank-e',
    name: 'Bank E',
    clientKeys: [
      { keyId: 'client-1', publicKey: key('e1') },
      { keyId: 'client-2', publicKey: key('e2') },
    ],
  },
  { type: 'registerInstitution', id: 'bank-f', name: 'Bank F', clientKeys: [] },
  { type: 'addClientKey', institution: 'bank-a', keyId: 'client-2', publicKey: key('a2') },
  { type: 'revokeClientKey', institution: 'bank-a', keyId: 'client-1' },
  { type: 'addValidator', institution: 'bank-e', publicKey: key('ve') },
  { type: 'removeValidator', institution: 'bank-d' },
  { type: 'rotateValidatorKey', institution: 'bank-a', publicKey: key('va2') },
  { type: 'setConsensusParams', params: { ...DEFAULT_CONSENSUS_PARAMS, maxBatchTxs: 500 } },
];

describe('governance record codec', () => {
  it('round-trips every action and approvals, canonically', () => {
    const records: GovernanceRecord[] = [
      ...actions.map((action) => ({ kind: 'propose' as const, deadline: 1_780_000_000_000, action })),
      { kind: 'approve', proposalId: new Uint8Array(32).fill(9) },
    ];
    for (const g of records) {
      const bytes = encodeGovernance(g);
      expect(decodeGovernance(bytes)).toEqual(g);
      expect(encodeGovernance(decodeGovernance(bytes))).toEqual(bytes);
    }
  });

  it('decodes strictly: trailing bytes, unknown version, kind and action, bad fields', () => {
    const good = encodeGovernance({ kind: 'propose', deadline: 5, action: actions[5]! });
    expect(codeOf(() => decodeGovernance(new Uint8Array([...good, 0])))).toBe(CodecErrorCode.trailingBytes);
    expect(codeOf(() => decodeGovernance(new Uint8Array([2, ...good.subarray(1)])))).toBe(
      CodecErrorCode.unknownVersion,
    );
    expect(codeOf(() => decodeGovernance(new Uint8Array([1, 3, 0])))).toBe(CodecErrorCode.unknownType);
    const badAction = good.slice();
    badAction[3] = 99; // version, kind, deadline varint (1 byte), action code
    expect(codeOf(() => decodeGovernance(badAction))).toBe(CodecErrorCode.unknownType);
    expect(codeOf(() => decodeGovernance(good.subarray(0, good.length - 1)))).toBe(CodecErrorCode.truncated);
    // The reserved key id can never be a client key; bad ids and params are refused on encode and decode.
    expect(
      codeOf(() =>
        encodeGovernance({
          kind: 'propose',
          deadline: 5,
          action: { type: 'addClientKey', institution: 'bank-a', keyId: 'validator', publicKey: key('x') },
        }),
      ),
    ).toBe(CodecErrorCode.invalidField);
    expect(
      codeOf(() =>
        encodeGovernance({
          kind: 'propose',
          deadline: 5,
          action: { type: 'removeValidator', institution: 'Bank A' },
        }),
      ),
    ).toBe(CodecErrorCode.invalidField);
    expect(
      codeOf(() =>
        encodeGovernance({
          kind: 'propose',
          deadline: 5,
          action: {
            type: 'setConsensusParams',
            params: { ...DEFAULT_CONSENSUS_PARAMS, watermarkWindow: 65 },
          },
        }),
      ),
    ).toBe(CodecErrorCode.invalidField);
  });
});

describe('validator-set epochs', () => {
  const g = testGenesis();
  const base = genesisValidatorSet(g);

  it('epoch 0 encodes as before (the genesis hash is unchanged); later epochs hash differently', () => {
    expect(encodeValidatorSet(base)[0]).toBe(1);
    expect(encodeValidatorSet({ ...base, epoch: 0 })).toEqual(encodeValidatorSet(base));
    const e1 = { validators: base.validators, epoch: 1 };
    const e2 = { validators: base.validators, epoch: 2 };
    expect(decodeValidatorSet(encodeValidatorSet(e1))).toEqual(e1);
    expect(decodeValidatorSet(encodeValidatorSet(base))).toEqual(base);
    const hashes = new Set([base, e1, e2].map((s) => Buffer.from(validatorSetHash(s)).toString('hex')));
    expect(hashes.size).toBe(3);
    // Version 2 with epoch 0 is not canonical.
    const bad = encodeValidatorSet(e1);
    bad[1] = 0;
    expect(codeOf(() => decodeValidatorSet(bad))).toBe(CodecErrorCode.invalidField);
    expect(genesisHash(g)).toEqual(genesisHash(testGenesis()));
  });

  it('consensus chain ids separate epochs; certificates verify only in their epoch', () => {
    const g = genesisHash(testGenesis());
    const gHex = toHex(g);
    expect(consensusChainId('jrchain-test', g, 0)).toBe(`jrchain-test@${gHex}`);
    expect(consensusChainId('jrchain-test', g, 3)).toBe(`jrchain-test@${gHex}/3`);
    expect(consensusChainId('jrchain-test', null, 3)).toBe('jrchain-test/3');
    expect(CONSENSUS_CHAIN_ID_PATTERN.test(`jrchain-test@${gHex}/3`)).toBe(true);
    expect(CONSENSUS_CHAIN_ID_PATTERN.test(`jrchain-test@${gHex.toUpperCase()}`)).toBe(false);
    expect(CONSENSUS_CHAIN_ID_PATTERN.test('jrchain-test/3')).toBe(true);
    expect(CONSENSUS_CHAIN_ID_PATTERN.test('jrchain-test/03')).toBe(false);
    expect(CONSENSUS_CHAIN_ID_PATTERN.test('jrchain-test/0')).toBe(false);

    const header = {
      chainId: 'jrchain-test',
      height: 7,
      prevHash: new Uint8Array(32),
      txRoot: new Uint8Array(32),
      txCount: 0,
      proposer: 0,
      view: 0,
      time: 1,
      validatorSetHash: new Uint8Array(32),
    };
    const e1 = { validators: base.validators, epoch: 1 };
    const signers = validatorSigners();
    const inEpoch1 = certifyBy(header, signers, 1, [0, 1, 2]);
    expect(inEpoch1.headerHash).toEqual(headerHash(header));
    expect(() => verifyCommitCertificate(inEpoch1, header, e1, g)).not.toThrow();
    // The same validators' epoch-0 votes do not count in epoch 1, nor the other way round.
    expect(codeOf(() => verifyCommitCertificate(certify(header), header, e1, g))).toBe(
      CertErrorCode.badSignature,
    );
    expect(codeOf(() => verifyCommitCertificate(inEpoch1, header, base, g))).toBe(CertErrorCode.badSignature);
  });
});
