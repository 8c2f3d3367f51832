import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import { CodecError } from '../../../src/core/codec.ts';
import { GenesisError, genesisHash, genesisToJson, parseGenesis } from '../../../src/core/genesis.ts';
import {
  decodeGovernance,
  describeAction,
  encodeGovernance,
  type GovernanceRecord,
} from '../../../src/core/governance.ts';
import { assembleGenesis, type MemberDescription } from '../../../src/core/member.ts';
import { testGenesisJson, testSigner } from '../../helpers/fixtures.ts';

describe('institution roles in the genesis', () => {
  it('an institution without a role is a bank, and such a genesis hashes as before roles existed', () => {
    const g = parseGenesis(testGenesisJson());
    expect(g.institutions.map((i) => i.role)).toEqual(['bank', 'bank', 'bank', 'bank']);
    const explicit = parseGenesis(testGenesisJson({ roles: { 'bank-a': 'bank' } }));
    expect(toHex(genesisHash(explicit))).toBe(toHex(genesisHash(g)));
  });

  it('other roles are part of the chain identity and survive the JSON round trip', () => {
    const base = parseGenesis(testGenesisJson());
    const withCourt = parseGenesis(testGenesisJson({ roles: { 'bank-c': 'court' } }));
    const withMediator = parseGenesis(testGenesisJson({ roles: { 'bank-c': 'mediator' } }));
    expect(withCourt.institutions[2]!.role).toBe('court');
    const hashes = new Set([base, withCourt, withMediator].map((g) => toHex(genesisHash(g))));
    expect(hashes.size).toBe(3);
    const again = parseGenesis(JSON.parse(JSON.stringify(genesisToJson(withCourt))));
    expect(again).toEqual(withCourt);
  });

  it('refuses an unknown role with its JSON path', () => {
    try {
      parseGenesis(testGenesisJson({ roles: { 'bank-b': 'notary' } }));
      expect.unreachable('accepted an unknown role');
    } catch (err) {
      expect(err).toBeInstanceOf(GenesisError);
      expect((err as GenesisError).message).toContain('genesis.institutions[1].role');
    }
  });

  it('member files carry a role into the assembled genesis', () => {
    const member = (id: string, role?: 'court'): MemberDescription => ({
      format: 'jrchain-member/v1',
      institution: { id, name: id.toUpperCase(), ...(role ? { role } : {}) },
      validator: { publicKey: toHex(testSigner(`${id}/v`).publicKey), addrs: [] },
      clientKeys: [],
    });
    const { genesis } = assembleGenesis([member('bank-x'), member('court-y', 'court')], {
      chainId: 'roles-test',
      createdAt: new Date(0),
    });
    expect(genesis.institutions.map((i) => i.role)).toEqual(['bank', 'court']);
  });
});

describe('the setInstitutionRole governance action', () => {
  it('round-trips, describes itself, and refuses an unknown role code', () => {
    const g: GovernanceRecord = {
      kind: 'propose',
      deadline: 1_000,
      action: { type: 'setInstitutionRole', institution: 'bank-b', role: 'mediator' },
    };
    const bytes = encodeGovernance(g);
    expect(decodeGovernance(bytes)).toEqual(g);
    expect(describeAction(g.action)).toBe('set the role of bank-b to mediator');
    const bad = bytes.slice();
    bad[bad.length - 1] = 9;
    expect(() => decodeGovernance(bad)).toThrow(CodecError);
    expect(() =>
      encodeGovernance({ ...g, action: { ...g.action, role: 'notary' as 'bank' } } as GovernanceRecord),
    ).toThrow(/unknown institution role/);
  });
});

describe('the setEncryptionKey and setAuditAccess governance actions (ADR 011)', () => {
  it('round-trip, describe themselves, and refuse a bad key length or a non-canonical flag', () => {
    const key: GovernanceRecord = {
      kind: 'propose',
      deadline: 1_000,
      action: { type: 'setEncryptionKey', institution: 'bank-b', publicKey: new Uint8Array(32).fill(0xab) },
    };
    const grant: GovernanceRecord = {
      kind: 'propose',
      deadline: 1_000,
      action: { type: 'setAuditAccess', institution: 'reg-1', granted: true },
    };
    expect(decodeGovernance(encodeGovernance(key))).toEqual(key);
    expect(decodeGovernance(encodeGovernance(grant))).toEqual(grant);
    expect(describeAction(key.action)).toBe('set the encryption key of bank-b to abababababababab…');
    expect(describeAction({ type: 'setAuditAccess', institution: 'reg-1', granted: false })).toBe(
      'revoke audit access of reg-1',
    );
    const bad = encodeGovernance(grant);
    bad[bad.length - 1] = 2;
    expect(() => decodeGovernance(bad)).toThrow(CodecError);
    expect(() =>
      encodeGovernance({
        ...key,
        action: { ...key.action, publicKey: new Uint8Array(31) },
      } as GovernanceRecord),
    ).toThrow(/X25519/);
  });
});
