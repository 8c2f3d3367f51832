/**
 * Writes the v4 receipt test vector (docs/receipts.md "Test vector"): the fuzz corpus's receipt (governance
 * before the block, the evidence's own token, an anchor with an archive timestamp, one renewal), its genesis
 * and its document, into test/vectors/receipt-v4/. Keys are random, so a rerun writes other bytes; the
 * committed files are the vector, and test/unit/receipt/vector-v4.test.ts checks them.
 *
 *   node test/vectors/make-receipt-v4.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { genesisToJson } from '../../src/core/genesis.ts';
import { buildCorpus } from '../fuzz/corpus.ts';

const dir = join(import.meta.dirname, 'receipt-v4');
const c = await buildCorpus();
writeFileSync(join(dir, 'genesis.json'), `${JSON.stringify(genesisToJson(c.genesis), null, 2)}\n`);
writeFileSync(join(dir, 'receipt.json'), `${JSON.stringify(c.receipt, null, 2)}\n`);
writeFileSync(join(dir, 'document.txt'), c.document);
console.log(`wrote ${dir}`);
