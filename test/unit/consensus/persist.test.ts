import { describe, expect, it } from 'vitest';
import { ConsensusError, ConsensusErrorCode } from '../../../src/consensus/errors.ts';
import { encodeBatch } from '../../../src/consensus/messages.ts';
import {
  encodeEntryRecord,
  encodeExecutedRecord,
  encodeStableRecord,
  encodeViewRecord,
  putBatch,
  RecordKey,
  readPersisted,
} from '../../../src/consensus/persist.ts';
import { batchDigest } from '../../../src/core/batch.ts';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { SM2_SM3 } from '../../../src/core/crypto-suite.ts';
import { smEvidenceTx } from '../../helpers/sm-chain.ts';
import { batch, hashFor, preparedCert, proof, tx } from './helpers.ts';

function corruptCode(records: [string, Uint8Array][]): string | undefined {
  try {
    readPersisted(records);
  } catch (e) {
    if (e instanceof ConsensusError) return e.code;
    throw e;
  }
  return undefined;
}

describe('persisted records', () => {
  it('round-trip', () => {
    const b = batch([tx(1), tx(2)]);
    const d = batchDigest(b);
    const cert = preparedCert(0, 3, d);
    const put = putBatch(3, b, d);
    const st = readPersisted([
      [RecordKey.view, encodeViewRecord({ view: 7, status: 'viewChange' })],
      [RecordKey.stable, encodeStableRecord(proof(2, hashFor(2)))],
      [
        RecordKey.entry(3),
        encodeEntryRecord({
          seq: 3,
          view: 0,
          accepted: { digest: d, signature: new Uint8Array(64) },
          preparedCert: cert,
        }),
      ],
      [put.key, put.op === 'put' ? put.value : new Uint8Array()],
      [RecordKey.executed(3), encodeExecutedRecord({ seq: 3, headerHash: hashFor(3), digest: d })],
    ]);
    expect(st.view).toEqual({ view: 7, status: 'viewChange' });
    expect(st.stable).toEqual(proof(2, hashFor(2)));
    expect(st.entries.get(3)?.preparedCert).toEqual(cert);
    expect(st.batches.get(3)?.get(Buffer.from(d).toString('hex'))).toEqual(b);
    expect(st.executed.get(3)).toEqual({ seq: 3, headerHash: hashFor(3), digest: d });
  });

  it('refuses records it cannot trust: unknown keys, garbage, keys that do not match their content', () => {
    expect(corruptCode([['nonsense', new Uint8Array([1])]])).toBe(ConsensusErrorCode.corruptState);
    expect(corruptCode([[RecordKey.view, utf8.encode('garbage')]])).toBe(ConsensusErrorCode.corruptState);
    const e = encodeEntryRecord({ seq: 3, view: 0, accepted: undefined, preparedCert: undefined });
    expect(corruptCode([[RecordKey.entry(4), e]])).toBe(ConsensusErrorCode.corruptState);
    const b = batch([tx(1)]);
    expect(corruptCode([[RecordKey.batch(3, 'ab'.repeat(32)), encodeBatch(b)]])).toBe(
      ConsensusErrorCode.corruptState,
    );
  });

  it("an SM chain's stored batch is read back under its suite: SM3 tx hashes and digest, refused under Ed25519", () => {
    const b = { proposer: 0, view: 0, time: 5, txs: [smEvidenceTx(1)] };
    const d = batchDigest(b, SM2_SM3);
    const put = putBatch(3, b, d);
    const record: [string, Uint8Array] = [put.key, put.op === 'put' ? put.value : new Uint8Array()];
    const st = readPersisted([record], SM2_SM3);
    expect(st.batches.get(3)?.get(toHex(d))).toEqual(b);
    // Under the default suite the key's digest does not match the batch: the record is refused, not mis-read.
    expect(corruptCode([record])).toBe(ConsensusErrorCode.corruptState);
  });
});
