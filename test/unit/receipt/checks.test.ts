/**
 * The check machinery (evaluate, CheckRun) and the failure codes each check reports. receipt.test.ts and
 * governance-receipt.test.ts cover the checks' verdicts and details on whole receipts.
 */
import { describe, expect, it } from 'vitest';
import { encodeHeader } from '../../../src/core/block.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { CodecError, CodecErrorCode } from '../../../src/core/codec.ts';
import {
  CheckRun,
  checkGenesis,
  checkHeader,
  checkInclusion,
  evaluate,
  failed,
  passed,
  ReceiptCheck,
  ReceiptFailureCode,
  reject,
  skipped,
} from '../../../src/receipt/receipt.ts';
import { buildChain } from '../../helpers/certified-chain.ts';
import { evidenceTx, testGenesis } from '../../helpers/fixtures.ts';

describe('evaluate', () => {
  it('keeps a rejection, reads a decoder error as malformed, and an unanticipated exception as unexpected', () => {
    expect(evaluate(() => reject(ReceiptFailureCode.badSignature, 'no'))).toEqual(
      failed(ReceiptFailureCode.badSignature, 'no'),
    );
    const codec = () => {
      throw new CodecError(CodecErrorCode.truncated, 'header: truncated');
    };
    expect(evaluate(codec)).toEqual(failed(ReceiptFailureCode.malformed, 'header: truncated'));
    expect(evaluate(codec, () => ReceiptFailureCode.badCertificate)).toEqual(
      failed(ReceiptFailureCode.badCertificate, 'header: truncated'),
    );
    const bug = () => {
      throw new TypeError('x is undefined');
    };
    expect(evaluate(bug)).toEqual(
      failed(ReceiptFailureCode.unexpected, 'unexpected TypeError: x is undefined'),
    );
    expect(evaluate(() => passed(7, 'seven'))).toEqual(passed(7, 'seven'));
  });
});

describe('CheckRun', () => {
  it('records outcomes in order, with the code of a failure, and says when to stop', () => {
    const run = new CheckRun();
    expect(run.record(ReceiptCheck.format, passed(1, 'jrchain-receipt/v1'))).toBe(true);
    expect(run.record(ReceiptCheck.file, skipped('no file given'))).toBe(true);
    expect(run.ok).toBe(true);
    expect(run.record(ReceiptCheck.genesis, failed(ReceiptFailureCode.wrongChain, 'other chain'))).toBe(
      false,
    );
    expect(run.ok).toBe(false);
    expect(run.outcomes).toEqual([
      { name: 'format', status: 'pass', detail: 'jrchain-receipt/v1' },
      { name: 'file', status: 'skip', detail: 'no file given' },
      { name: 'genesis', status: 'fail', detail: 'other chain', code: 'RECEIPT_WRONG_CHAIN' },
    ]);
  });

  it('serves other receipt kinds with their own check names', () => {
    const run = new CheckRun<'timeline' | 'header'>();
    run.record('timeline', passed(undefined, '3 events'));
    expect(run.outcomes[0]!.name).toBe('timeline');
  });
});

describe('building blocks report typed failures', () => {
  const genesis = testGenesis();
  const tx = evidenceTx({ nonce: 1 });
  const [block] = buildChain(genesis, [[tx, evidenceTx({ nonce: 2 })]], 1_780_000_000_000);
  const blockJson = {
    height: 1,
    hash: toHex(block!.hash),
    header: Buffer.from(encodeHeader(block!.header)).toString('base64'),
  };

  it('genesis: another chain id, another genesis hash', () => {
    expect(checkGenesis({ chainId: 'other', genesisHash: '00' }, genesis, true)).toMatchObject({
      code: ReceiptFailureCode.wrongChain,
    });
    expect(checkGenesis({ chainId: genesis.chainId, genesisHash: '00' }, genesis, true)).toMatchObject({
      code: ReceiptFailureCode.wrongGenesis,
    });
    expect(checkGenesis({ chainId: { toString: null }, genesisHash: 1 }, genesis, true)).toMatchObject({
      code: ReceiptFailureCode.wrongChain,
      detail: expect.stringMatching(/^chain id an object is not/),
    });
  });

  it('header: passes a genuine block; a field path in the detail, for use on any block of a receipt', () => {
    expect(checkHeader(blockJson, genesis)).toMatchObject({ status: 'pass', value: block!.header });
    expect(checkHeader({ ...blockJson, height: 2 }, genesis)).toMatchObject({
      code: ReceiptFailureCode.heightMismatch,
    });
    expect(checkHeader(null, genesis, 'events[2].block')).toEqual(
      failed(ReceiptFailureCode.malformed, 'events[2].block is not an object'),
    );
    expect(checkHeader({ ...blockJson, header: 'not base64!' }, genesis)).toEqual(
      failed(ReceiptFailureCode.malformed, 'block.header is not base64'),
    );
  });

  it('inclusion: wrong types are malformed, a wrong proof is badInclusion', () => {
    const header = block!.header;
    expect(checkInclusion(tx, { leafIndex: '0', treeSize: 2, path: [] }, header)).toMatchObject({
      code: ReceiptFailureCode.malformed,
    });
    expect(checkInclusion(tx, { leafIndex: 0, treeSize: 2, path: 'ab' }, header)).toMatchObject({
      code: ReceiptFailureCode.malformed,
    });
    expect(checkInclusion(tx, { leafIndex: 1, treeSize: 2, path: ['00'.repeat(32)] }, header)).toMatchObject({
      code: ReceiptFailureCode.badInclusion,
    });
  });
});
