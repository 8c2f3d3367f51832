/**
 * The case-key store at rest (ADR 015): an index so a lookup by case id reads no other case's file, references
 * shredded here remembered, and encryption with the key files' passphrase (a store key sealed like a key file).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import { caseRef, newCaseKey } from '../../../src/core/case-seal.ts';
import { KeyErrorCode } from '../../../src/core/keys.ts';
import {
  CASE_INDEX_FILE,
  CASE_KEY_FORMAT,
  CASE_STORE_KEY_FILE,
  CaseKeyStore,
  homeCaseKeys,
  type StoredCaseKey,
} from '../../../src/node/case-keys.ts';
import { codeOf } from '../../helpers/errors.ts';

const root = mkdtempSync(join(tmpdir(), 'jrchain-case-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `store-${n++}`);

function newCase(caseId: string): StoredCaseKey {
  const key = newCaseKey();
  return { caseId, ref: caseRef(key, caseId), key };
}
const fileOf = (dir: string, c: StoredCaseKey) => join(dir, `${c.ref.slice(3)}.json`);
const PASS = 'correct horse battery';

describe('the case-key store', () => {
  it('finds a case by id through its index, without reading any other case file', () => {
    const dir = fresh();
    const s = new CaseKeyStore(dir);
    const [a, b] = [newCase('CASE-A'), newCase('CASE-B')];
    s.put(a);
    s.put(b);
    expect(JSON.parse(readFileSync(join(dir, CASE_INDEX_FILE), 'utf8')).cases).toEqual({
      'CASE-A': a.ref,
      'CASE-B': b.ref,
    });
    // B's file is garbage now: a scan would fail on it, the index goes straight to A.
    writeFileSync(fileOf(dir, b), 'not json', { mode: 0o600 });
    expect(s.byCaseId('CASE-A')).toEqual(a);
    expect(s.byRef(a.ref)).toEqual(a);
    expect(s.byCaseId('CASE-C')).toBeUndefined();
    expect(codeOf(() => s.byCaseId('CASE-B'))).toBe(KeyErrorCode.corrupt);
  });

  it('builds the index of a store written before it existed', () => {
    const dir = fresh();
    new CaseKeyStore(dir);
    const a = newCase('OLD-1');
    const doc = { format: CASE_KEY_FORMAT, caseId: a.caseId, ref: a.ref, key: toHex(a.key) };
    writeFileSync(fileOf(dir, a), JSON.stringify(doc), { mode: 0o600 });
    expect(new CaseKeyStore(dir).byCaseId('OLD-1')).toEqual(a);
    expect(readdirSync(dir)).toContain(CASE_INDEX_FILE);
  });

  it('remembers what it shredded: the key is gone and is not stored again', () => {
    const s = new CaseKeyStore(fresh());
    const a = newCase('SHRED-1');
    s.put(a);
    expect(s.shred(a.ref)).toBe(true);
    expect(s.byCaseId('SHRED-1')).toBeUndefined();
    expect(s.byRef(a.ref)).toBeUndefined();
    expect(s.isShredded(a.ref)).toBe(true);
    expect(() => s.put(a)).toThrow(/was shredded/);
    expect(s.shred(a.ref)).toBe(false);
  });

  it('encrypted with a passphrase: nothing of a case in clear at rest; wrong or missing passphrases refused', () => {
    const dir = fresh();
    const plain = new CaseKeyStore(dir);
    const before = newCase('ENC-BEFORE');
    plain.put(before);
    // A plain store is encrypted in place, its entries and index included.
    const s = new CaseKeyStore(dir, { passphrase: PASS, encrypt: true });
    expect(s.encrypted).toBe(true);
    const after = newCase('ENC-AFTER');
    s.put(after);
    const atRest = readdirSync(dir)
      .filter((f) => f !== CASE_STORE_KEY_FILE)
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('\n');
    for (const c of [before, after]) {
      expect(atRest).not.toContain(c.caseId);
      expect(atRest).not.toContain(toHex(c.key));
    }
    const again = new CaseKeyStore(dir, { passphrase: PASS });
    expect(again.byCaseId('ENC-BEFORE')).toEqual(before);
    expect(again.byCaseId('ENC-AFTER')).toEqual(after);
    expect(
      codeOf(() => new CaseKeyStore(dir, { passphrase: 'wrong passphrase' }).byCaseId('ENC-AFTER')),
    ).toBe(KeyErrorCode.passphraseWrong);
    const saved = process.env.JRCHAIN_KEY_PASSPHRASE;
    delete process.env.JRCHAIN_KEY_PASSPHRASE;
    try {
      expect(codeOf(() => new CaseKeyStore(dir).byRef(after.ref))).toBe(KeyErrorCode.passphraseRequired);
    } finally {
      if (saved !== undefined) process.env.JRCHAIN_KEY_PASSPHRASE = saved;
    }
    // An entry altered at rest, or moved to another case's name, does not open.
    const doc = JSON.parse(readFileSync(fileOf(dir, after), 'utf8'));
    writeFileSync(fileOf(dir, before), JSON.stringify({ ...doc, ref: before.ref }), { mode: 0o600 });
    expect(codeOf(() => again.byRef(before.ref))).toBe(KeyErrorCode.corrupt);
  });

  it("the node's view never fails a read: a locked store opens nothing and says why once", () => {
    const dir = fresh();
    const a = newCase('NODE-1');
    new CaseKeyStore(dir, { passphrase: PASS, encrypt: true }).put(a);
    const errors: string[] = [];
    const saved = process.env.JRCHAIN_KEY_PASSPHRASE;
    delete process.env.JRCHAIN_KEY_PASSPHRASE;
    try {
      const locked = homeCaseKeys(dir, undefined, (e) => errors.push(e.code));
      expect(locked.byCaseId('NODE-1')).toBeUndefined();
      expect(locked.byRef(a.ref)).toBeUndefined();
      expect(errors).toEqual([KeyErrorCode.passphraseRequired]);
    } finally {
      if (saved !== undefined) process.env.JRCHAIN_KEY_PASSPHRASE = saved;
    }
    expect(homeCaseKeys(dir, PASS, () => {}).byCaseId('NODE-1')).toEqual(a);
    expect(homeCaseKeys(join(dir, 'absent'), PASS, () => {}).byRef(a.ref)).toBeUndefined();
  });
});
