/**
 * Paging and query-argument checks shared by both stores, so they accept and refuse exactly the same input.
 * A cursor is the position of the last item returned, encoded with the core codec and base64url: opaque to
 * callers, cheap to seek from, and valid across both store implementations.
 */
import { CodecError, decodeExact, Writer } from '../core/codec.ts';
import { type HashAlg, HashAlgs, isHashAlg } from '../core/evidence.ts';
import { CASE_ID_PATTERN, ID_PATTERN } from '../core/limits.ts';
import { LedgerError, LedgerErrorCode } from './errors.ts';
import type { PageRequest } from './store.ts';

export const PAGE_LIMIT_DEFAULT = 100;
export const PAGE_LIMIT_MAX = 1000;

/** A place in chain order; `time` is set for the institution/time index, whose order starts with it. */
export interface Position {
  time?: number | undefined;
  height: number;
  index: number;
}

export type CursorKind = 'chain' | 'time';
const CURSOR_VERSION = 1;
const kindCode: Record<CursorKind, number> = { chain: 1, time: 2 };
const CURSOR_MAX_BYTES = 32;

export function encodeCursor(kind: CursorKind, p: Position): string {
  const w = new Writer(32).u8(CURSOR_VERSION).u8(kindCode[kind]);
  if (kind === 'time') w.varint(p.time!);
  const bytes = w.varint(p.height).varint(p.index).finish();
  return Buffer.from(bytes).toString('base64url');
}

function badCursor(): LedgerError {
  return new LedgerError(LedgerErrorCode.invalidCursor, 'cursor was not produced by this kind of query');
}

export function decodeCursor(kind: CursorKind, cursor: string): Position {
  if (typeof cursor !== 'string' || cursor.length > 64 || !/^[A-Za-z0-9_-]*$/.test(cursor)) throw badCursor();
  const bytes = new Uint8Array(Buffer.from(cursor, 'base64url'));
  // Buffer.from ignores a dangling character; insist on the exact encoding so each position has one cursor.
  if (Buffer.from(bytes).toString('base64url') !== cursor) throw badCursor();
  try {
    return decodeExact(bytes, CURSOR_MAX_BYTES, 'cursor', (r) => {
      if (r.u8() !== CURSOR_VERSION || r.u8() !== kindCode[kind]) throw badCursor();
      const time = kind === 'time' ? r.varint() : undefined;
      return { time, height: r.varint(), index: r.varint() };
    });
  } catch (err) {
    if (err instanceof CodecError) throw badCursor();
    throw err;
  }
}

export interface ResolvedPage {
  limit: number;
  /** Return only items strictly after this position. */
  after: Position | undefined;
}

export function resolvePage(kind: CursorKind, page: PageRequest | undefined): ResolvedPage {
  const limit = page?.limit ?? PAGE_LIMIT_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_LIMIT_MAX) {
    throw new LedgerError(LedgerErrorCode.invalidLimit, `limit must be an integer in [1, ${PAGE_LIMIT_MAX}]`);
  }
  const after = page?.cursor === undefined ? undefined : decodeCursor(kind, page.cursor);
  return { limit, after };
}

function invalid(message: string): LedgerError {
  return new LedgerError(LedgerErrorCode.invalidArgument, message);
}

export function checkEvidenceHash(hashAlg: HashAlg, hash: Uint8Array): void {
  if (!isHashAlg(hashAlg)) throw invalid(`unknown hash algorithm ${String(hashAlg)}`);
  if (!(hash instanceof Uint8Array) || hash.length !== HashAlgs[hashAlg].length) {
    throw invalid(`a ${hashAlg} hash is ${HashAlgs[hashAlg].length} bytes`);
  }
}

export function checkCaseId(caseId: string): void {
  if (typeof caseId !== 'string' || !CASE_ID_PATTERN.test(caseId)) throw invalid('malformed case id');
}

export function checkInstitutionRange(institution: string, fromMs: number, toMs: number): void {
  if (typeof institution !== 'string' || !ID_PATTERN.test(institution)) {
    throw invalid('malformed institution id');
  }
  for (const t of [fromMs, toMs]) {
    if (!Number.isSafeInteger(t) || t < 0) throw invalid('times must be non-negative integer milliseconds');
  }
  if (fromMs > toMs) throw invalid('fromMs must not exceed toMs');
}

/** Chain order, with time first for the time index (block time never decreases, so the orders agree). */
export function comparePositions(a: Position, b: Position): number {
  return (a.time ?? 0) - (b.time ?? 0) || a.height - b.height || a.index - b.index;
}

export function checkHeight(height: number): void {
  if (!Number.isSafeInteger(height) || height < 1) throw invalid('a block height is an integer >= 1');
}

export function checkHeightRange(fromHeight: number, toHeight: number): void {
  checkHeight(fromHeight);
  checkHeight(toHeight);
  if (fromHeight > toHeight) throw invalid('fromHeight must not exceed toHeight');
}
