/**
 * This machine's Ed25519 verification rate on one core, the way validators verify client signatures:
 * `verifyTxEnvelope` on a signed evidence tx through node:crypto (domain prefix, cached key object).
 */
import { utf8 } from '../../core/bytes.ts';
import { Ed25519Signer, sha256 } from '../../core/crypto.ts';
import { encodeEvidence } from '../../core/evidence.ts';
import { envelope, signTx, verifyTxEnvelope } from '../../core/tx.ts';

/** Verifications per second over about `ms` of one thread's time. */
export function measureVerifyRate(ms = 1000): number {
  const { signer } = Ed25519Signer.generate();
  const payload = encodeEvidence({
    hashAlg: 'sha256',
    hash: sha256(utf8.encode('verify-rate')),
    caseId: '2026-BJ-CC-0000001',
    evidenceType: 'statement',
    mediaType: 'application/pdf',
    size: 40_000,
    label: 'Monthly card statement',
  });
  const env = envelope(
    signTx(
      {
        chainId: 'jrchain-bench',
        type: 'evidence',
        institution: 'bank-a',
        keyId: 'client-1',
        nonce: 1,
        createdAt: Date.now(),
        ttlMs: 60_000,
        payload,
      },
      signer,
    ),
  );
  // Warm up (JIT, key cache), then count whole rounds until the time is up.
  for (let i = 0; i < 200; i++) verifyTxEnvelope(env, signer.publicKey);
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 100; i++) {
      if (!verifyTxEnvelope(env, signer.publicKey)) throw new Error('verify-rate: signature did not verify');
    }
    count += 100;
    elapsed = performance.now() - start;
  }
  return (count / elapsed) * 1000;
}
