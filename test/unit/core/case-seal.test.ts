/**
 * Case confidentiality primitives (ADR 011): the vectors of docs/encoding.md match the code and an independent
 * implementation (@noble/hashes, @noble/curves); sealed text, labels, details and key wraps open only under the
 * right key, case reference and institution.
 */
import { createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../../../src/core/bytes.ts';
import * as S from '../../../src/core/case-seal.ts';
import { isJrError } from '../../../src/core/errors.ts';
import { repoRoot } from '../../helpers/tsa.ts';

const filled = (n: number, b: number) => new Uint8Array(n).fill(b);
const K = filled(32, 0x01);
const CASE_ID = '2026-BJ-CC-000123';
const ref = S.caseRef(K, CASE_ID);
const recipientPriv = filled(32, 0x04);

function documented(): Map<string, string> {
  const text = readFileSync(`${repoRoot}/docs/encoding.md`, 'utf8');
  const block = /```case-vectors\n([\s\S]*?)```/.exec(text)?.[1] ?? '';
  return new Map(
    block
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/) as [string, string]),
  );
}

/** The same values from @noble: HKDF, HMAC and X25519 not from node:crypto. */
function independent(): Record<string, string> {
  const sub = (p: string) => hkdf(sha256, K, new Uint8Array(0), utf8.encode(`jrchain/case-${p}/v1`), 32);
  const refNoble = `k1:${toHex(hmac(sha256, sub('ref'), utf8.encode(CASE_ID)))}`;
  const R = x25519.getPublicKey(recipientPriv);
  const E = x25519.getPublicKey(filled(32, 0x03));
  const shared = x25519.getSharedSecret(filled(32, 0x03), R);
  const salt = new Uint8Array([...E, ...R]);
  const kek = hkdf(sha256, shared, salt, utf8.encode('jrchain/case-wrap/v1'), 32);
  return {
    'subkey-ref': toHex(sub('ref')),
    'subkey-claimant': toHex(sub('claimant')),
    'subkey-text': toHex(sub('text')),
    'case-ref': toHex(utf8.encode(refNoble)),
    'claimant-commitment': toHex(hmac(sha256, sub('claimant'), utf8.encode('ID 110101199003074321'))),
    'recipient-public': toHex(R),
    // The wrap's ephemeral key, and the KEK that opens its ciphertext (checked below).
    'wrapped-key-ephemeral': toHex(E),
    'wrap-kek': toHex(kek),
  };
}

const computed: Record<string, Uint8Array> = {
  'subkey-ref': S.caseSubkey(K, 'ref'),
  'subkey-claimant': S.caseSubkey(K, 'claimant'),
  'subkey-text': S.caseSubkey(K, 'text'),
  'case-ref': utf8.encode(ref),
  'claimant-commitment': S.keyedClaimantCommitment(K, 'ID 110101199003074321'),
  'sealed-details': S.sealCaseDetails(K, ref, { caseId: CASE_ID, note: 'card ending 4321' }, filled(12, 2)),
  'sealed-label-text': S.sealText(K, ref, utf8.encode('signed contract'), filled(12, 2)),
  'recipient-public': S.x25519PublicKey(recipientPriv),
  'wrapped-key': S.wrapCaseKey(K, S.x25519PublicKey(recipientPriv), ref, 'bank-a', filled(32, 0x03)),
};

function openFails(f: () => unknown): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(isJrError(err, S.SealErrorCode.openFailed), String(err)).toBe(true);
}

describe('docs/encoding.md case vectors', () => {
  it('lists every computed vector, and only those', () => {
    expect([...documented().keys()].sort()).toEqual(Object.keys(computed).sort());
  });

  it.each(Object.keys(computed))('%s matches the code', (name) => {
    expect(documented().get(name)).toBe(toHex(computed[name]!));
  });

  it('agrees with an independent implementation of HKDF, HMAC and X25519', () => {
    const ind = independent();
    for (const k of ['subkey-ref', 'subkey-claimant', 'subkey-text', 'case-ref', 'claimant-commitment'])
      expect(documented().get(k), k).toBe(ind[k]);
    expect(documented().get('recipient-public')).toBe(ind['recipient-public']);
    // The documented wrap: its first 32 bytes are the ephemeral key, the rest opens under the noble KEK.
    const wrapped = fromHex(documented().get('wrapped-key')!);
    expect(toHex(wrapped.subarray(0, 32))).toBe(ind['wrapped-key-ephemeral']);
    const d = createDecipheriv('aes-256-gcm', fromHex(ind['wrap-kek']!), new Uint8Array(12));
    d.setAAD(utf8.encode(`jrchain/case-wrap/v1\0${ref}\0bank-a`));
    d.setAuthTag(wrapped.subarray(64));
    expect(toHex(Buffer.concat([d.update(wrapped.subarray(32, 64)), d.final()]))).toBe(toHex(K));
  });
});

describe('sealing under the case key', () => {
  const other = filled(32, 0x09);

  it('a reference depends on the key: the same id under another key gives another reference', () => {
    expect(S.isCaseRef(ref)).toBe(true);
    expect(S.caseRef(other, CASE_ID)).not.toBe(ref);
    expect(S.caseRef(K, `${CASE_ID}x`)).not.toBe(ref);
  });

  it('sealed details open under the key and reference only', () => {
    const sealed = S.sealCaseDetails(K, ref, { caseId: CASE_ID, note: 'n' });
    expect(S.openCaseDetails(K, ref, sealed)).toEqual({ caseId: CASE_ID, note: 'n' });
    openFails(() => S.openCaseDetails(other, ref, sealed));
    openFails(() => S.openCaseDetails(K, S.caseRef(K, 'another case'), sealed));
    const bent = sealed.slice();
    bent[20]! ^= 1;
    openFails(() => S.openCaseDetails(K, ref, bent));
    openFails(() => S.openCaseDetails(K, ref, sealed.subarray(0, 10)));
  });

  it('a sealed label round-trips, carries no clear text and passes the label rules', () => {
    const label = S.sealLabel(K, ref, 'statement 2026-11');
    expect(label.startsWith('s1:')).toBe(true);
    expect(label).not.toContain('statement');
    expect(S.openLabel(K, ref, label)).toBe('statement 2026-11');
    expect(S.openLabel(K, ref, 'plain label')).toBeUndefined();
    openFails(() => S.openLabel(other, ref, label));
    openFails(() => S.openLabel(K, ref, 's1:!!'));
  });

  it('a wrap opens with the recipient key for that case and institution only', () => {
    const mine = S.newEncryptionKey();
    const theirs = S.newEncryptionKey();
    const w = S.wrapCaseKey(K, mine.publicKey, ref, 'bank-a');
    expect(w.length).toBe(S.WRAPPED_KEY_LENGTH);
    expect(S.unwrapCaseKey(w, mine.privateKey, ref, 'bank-a')).toEqual(K);
    openFails(() => S.unwrapCaseKey(w, theirs.privateKey, ref, 'bank-a'));
    openFails(() => S.unwrapCaseKey(w, mine.privateKey, ref, 'bank-b'));
    openFails(() => S.unwrapCaseKey(w, mine.privateKey, S.caseRef(K, 'x'), 'bank-a'));
    openFails(() => S.unwrapCaseKey(w.subarray(1), mine.privateKey, ref, 'bank-a'));
    // An all-zero ephemeral key is a low-order point: refused, not thrown raw.
    openFails(() => S.unwrapCaseKey(new Uint8Array(80), mine.privateKey, ref, 'bank-a'));
  });

  it('refuses keys of the wrong length with SEAL_BAD_KEY', () => {
    expect(() => S.caseRef(new Uint8Array(31), CASE_ID)).toThrow(/32 bytes/);
  });
});
