/** Request-parameter helpers shared by the route modules: 400s for bad input, ledger errors mapped to HTTP. */
import { isJrError } from '../core/errors.ts';
import type { PageRequest } from '../ledger/store.ts';
import { ApiError } from './http.ts';

export function badRequest(code: string, message: string): ApiError {
  return new ApiError(400, code, message);
}

export function pageParams(q: URLSearchParams): PageRequest {
  const limit = q.get('limit');
  const cursor = q.get('cursor');
  const page: PageRequest = {};
  if (limit !== null) {
    if (!/^\d{1,6}$/.test(limit)) throw badRequest('BAD_LIMIT', 'limit must be a positive integer');
    page.limit = Number(limit);
  }
  if (cursor !== null) page.cursor = cursor;
  return page;
}

/** Ledger errors about arguments (bad case id, cursor, limit) are the client's: 400. */
export async function ledgerCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isJrError(err) && /^LEDGER_INVALID_/.test(err.code)) throw badRequest(err.code, err.message);
    if (isJrError(err, 'RECEIPT_NOT_EVIDENCE')) throw new ApiError(422, err.code, err.message);
    // Not yet: the next anchor (or, for a non-SHA-256 hash, none) will carry the archive timestamp.
    if (isJrError(err, 'RECEIPT_NOT_ARCHIVED')) throw new ApiError(409, err.code, err.message);
    if (isJrError(err, 'RECEIPT_NO_CASE')) throw new ApiError(404, 'NOT_FOUND', err.message);
    throw err;
  }
}
