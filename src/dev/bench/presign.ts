/**
 * Pre-signs the benchmark's evidence txs before anything is measured, on worker threads (one per core). Tx i
 * belongs to institution i mod the number of institutions, has nonce i (unique per institution), and records
 * a distinct document in a case of 20 records.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { toHex, utf8 } from '../../core/bytes.ts';
import { sha256 } from '../../core/crypto.ts';
import { encodeEvidence } from '../../core/evidence.ts';
import { readKeyFile } from '../../core/keys.ts';
import { encodeTx, signTx, txHashFromBytes } from '../../core/tx.ts';

export interface ClientIdentity {
  institution: string;
  keyId: string;
  keyFile: string;
}

export interface PresignJob {
  chainId: string;
  clients: readonly ClientIdentity[];
  from: number;
  to: number;
  createdAt: number;
  ttlMs: number;
  /** Distinguishes runs, so documents differ between runs on one chain. */
  runTag: string;
}

export interface SignedTxs {
  /** Canonical tx bytes, one after the other. */
  bytes: Uint8Array;
  /** Offsets into `bytes`: tx i is bytes[offsets[i]..offsets[i + 1]). */
  offsets: Uint32Array;
  hashes: string[];
}

function signRange(job: PresignJob): SignedTxs {
  const signers = job.clients.map((c) => readKeyFile(c.keyFile).signer);
  const parts: Uint8Array[] = [];
  const hashes: string[] = [];
  const offsets = new Uint32Array(job.to - job.from + 1);
  let size = 0;
  for (let i = job.from; i < job.to; i++) {
    const c = i % job.clients.length;
    const client = job.clients[c]!;
    const payload = encodeEvidence({
      hashAlg: 'sha256',
      hash: sha256(utf8.encode(`bench-${job.runTag}-document-${i}`)),
      caseId: `2026-BJ-CC-${String(Math.floor(i / 20)).padStart(7, '0')}`,
      evidenceType: 'statement',
      mediaType: 'application/pdf',
      size: 40_000 + (i % 9000),
      label: 'Monthly card statement',
    });
    const tx = signTx(
      {
        chainId: job.chainId,
        type: 'evidence',
        institution: client.institution,
        keyId: client.keyId,
        nonce: i,
        createdAt: job.createdAt,
        ttlMs: job.ttlMs,
        payload,
      },
      signers[c]!,
    );
    const bytes = encodeTx(tx);
    parts.push(bytes);
    hashes.push(toHex(txHashFromBytes(bytes)));
    size += bytes.length;
    offsets[i - job.from + 1] = size;
  }
  const bytes = new Uint8Array(size);
  parts.forEach((p, k) => {
    bytes.set(p, offsets[k]!);
  });
  return { bytes, offsets, hashes };
}

/** Signs txs [0, count) on `threads` worker threads (default: one per core). */
export async function presign(
  job: Omit<PresignJob, 'from' | 'to'> & { count: number },
  threads = availableParallelism(),
): Promise<SignedTxs> {
  const n = Math.max(1, Math.min(threads, Math.ceil(job.count / 1000)));
  const ranges = Array.from({ length: n }, (_, k) => [
    Math.floor((job.count * k) / n),
    Math.floor((job.count * (k + 1)) / n),
  ]);
  const results = await Promise.all(
    ranges.map(
      ([from, to]) =>
        new Promise<SignedTxs>((resolve, reject) => {
          const { count: _count, ...rest } = job;
          const w = new Worker(new URL(import.meta.url), { workerData: { ...rest, from, to } });
          w.once('message', resolve);
          w.once('error', reject);
          w.once('exit', (code) => {
            if (code !== 0) reject(new Error(`presign worker exited with ${code}`));
          });
        }),
    ),
  );
  return mergeSigned(results);
}

/** Concatenates consecutive ranges of signed txs into one. */
export function mergeSigned(parts: readonly SignedTxs[]): SignedTxs {
  const total = parts.reduce((s, r) => s + r.bytes.length, 0);
  const count = parts.reduce((s, r) => s + r.offsets.length - 1, 0);
  const bytes = new Uint8Array(total);
  const offsets = new Uint32Array(count + 1);
  const hashes: string[] = [];
  let base = 0;
  let index = 0;
  for (const r of parts) {
    bytes.set(r.bytes, base);
    for (let k = 1; k < r.offsets.length; k++) offsets[index + k] = base + r.offsets[k]!;
    index += r.offsets.length - 1;
    base += r.bytes.length;
    // Not hashes.push(...r.hashes): spreading 100,000+ arguments overflows the stack.
    for (const h of r.hashes) hashes.push(h);
  }
  return { bytes, offsets, hashes };
}

if (!isMainThread && parentPort !== null) {
  const out = signRange(workerData as PresignJob);
  parentPort.postMessage(out, [out.bytes.buffer as ArrayBuffer, out.offsets.buffer as ArrayBuffer]);
}
