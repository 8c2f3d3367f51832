import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type PrePrepare } from '../../src/consensus/messages.ts';
import { batch, pp, tx } from '../unit/consensus/helpers.ts';
import { SharedDecoder } from './shared-decode.ts';

const bytes = () => encodeMessage(pp(1, batch([tx(1), tx(2)])));

describe('SharedDecoder (one decoding per sent bytes object, shared by its receivers)', () => {
  it('decodes a bytes object once and hands every receiver the same frozen value, equal to a fresh decoding', () => {
    const d = new SharedDecoder();
    const sent = bytes();
    const a = d.decode(sent);
    const b = d.decode(sent);
    expect(b).toBe(a);
    expect(d.decodings).toBe(1);
    expect(a).toEqual(decodeMessage(sent));
    const m = a as PrePrepare;
    expect(Object.isFrozen(m)).toBe(true);
    expect(Object.isFrozen(m.batch.txs)).toBe(true);
    expect(Object.isFrozen(m.batch.txs[0])).toBe(true);
    expect(() => {
      (m as { view: number }).view = 9;
    }).toThrow(TypeError);
    expect(() => (m.batch.txs as unknown[]).pop()).toThrow(TypeError);
  });

  it('decodes other bytes objects, even with equal content, on their own: tampered bytes get their own decoding', () => {
    const d = new SharedDecoder();
    const sent = bytes();
    const honest = d.decode(sent);
    const copy = sent.slice();
    expect(d.decode(copy)).not.toBe(honest);
    const tampered = sent.slice();
    tampered[tampered.length - 1]! ^= 1;
    const seen = d.decode(tampered) as PrePrepare;
    expect(seen).toEqual(decodeMessage(tampered));
    expect(seen.signature).not.toEqual((honest as PrePrepare).signature);
    expect(d.decodings).toBe(3);
  });

  it('refuses malformed bytes with decodeMessage’s own error, to every receiver', () => {
    const d = new SharedDecoder();
    const bad = bytes().subarray(0, 20);
    let expected = '';
    try {
      decodeMessage(bad);
    } catch (err) {
      expected = (err as Error).message;
    }
    expect(expected).not.toBe('');
    expect(() => d.decode(bad)).toThrow(expected);
    expect(() => d.decode(bad)).toThrow(expected);
    expect(d.decodings).toBe(1);
  });
});
