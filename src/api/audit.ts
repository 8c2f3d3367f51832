/**
 * The audit log of case-data reads (docs/security.md#audit-log): one JSON line per authorised read (who, what,
 * when), append-only in the node's data directory. Each entry carries the hash of the one before and its own
 * hash over `prev ‖ "\n" ‖ the entry's JSON without hash`, so an edited, removed or reordered entry breaks
 * the chain at that line. Dropping entries from the end would leave a valid shorter chain, so the head (the last
 * entry's seq and hash) is also kept in `audit.log.head`, rewritten atomically after each append: a log shorter
 * than its head, or whose entry at the head's seq has another hash, is refused at start and by
 * `jrchain audit verify`. A node signs the head with its validator key (ADR 015), so cutting both files needs
 * that key: the node refuses to start on a head that is missing, unsigned or not signed by it, and
 * `audit verify --home` checks the signature against the node's key. Rolling both files back to a signed pair
 * copied earlier is not detected (docs/security.md#audit-log).
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { equalBytes, toHex, tryFromHex, utf8 } from '../core/bytes.ts';
import { Domain, type Signer, sha256, verifySignature } from '../core/crypto.ts';
import { SM2_SM3 } from '../core/crypto-suite.ts';
import { JrError } from '../core/errors.ts';

export const AUDIT_LOG_FILE = 'audit.log';
const ZERO = '0'.repeat(64);

export class AuditLogError extends JrError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('AUDIT_LOG_TAMPERED', message, details);
  }
}

/** What was read, by whom. */
export interface AuditEvent {
  institution: string;
  keyId: string;
  /** `case.read`, `case.receipt`, `case.list`, `stats.read`, `audit.read`, `tx.read`, `block.read`. */
  action: string;
  /** The case read, or null for reads that are not of one case. */
  caseId: string | null;
}

export interface AuditEntry extends AuditEvent {
  seq: number;
  time: string;
  prev: string;
  hash: string;
}

function entryHash(e: Omit<AuditEntry, 'hash'>): string {
  const { prev, ...rest } = e;
  const body = JSON.stringify({
    seq: rest.seq,
    time: rest.time,
    institution: rest.institution,
    keyId: rest.keyId,
    action: rest.action,
    caseId: rest.caseId,
  });
  return toHex(sha256(utf8.encode(`${prev}\n${body}`)));
}

/** Parses and checks a log's lines; throws AuditLogError naming the first line that breaks the chain. */
export function verifyAuditLines(lines: readonly string[]): AuditEntry[] {
  const out: AuditEntry[] = [];
  let prev = ZERO;
  lines.forEach((line, i) => {
    let e: AuditEntry;
    try {
      e = JSON.parse(line) as AuditEntry;
    } catch {
      throw new AuditLogError(`audit log line ${i + 1} is not JSON`, { line: i + 1 });
    }
    const { hash, ...rest } = e;
    if (e.seq !== i + 1 || e.prev !== prev || hash !== entryHash(rest))
      throw new AuditLogError(`audit log line ${i + 1} breaks the hash chain (edited, removed or moved)`, {
        line: i + 1,
      });
    prev = hash;
    out.push(e);
  });
  return out;
}

/** The head file of a log: the last entry's seq and hash, signed by the node when it has a key. */
export interface AuditHead {
  seq: number;
  hash: string;
  /** The node's Ed25519 public key, hex. */
  publicKey?: string;
  /** Ed25519 over `jrchain/audit-head/v1` ‖ 0x00 ‖ UTF-8 "<seq>\n<hash>", hex. */
  signature?: string;
}

/** The entry a node appends when it starts signing its log's heads (its first start, or the upgrade). */
export const HEAD_SIGNED_ACTION = 'audit.head-signed';
const HEAD_SIGNED_EVENT: AuditEvent = {
  institution: 'node',
  keyId: 'validator',
  action: HEAD_SIGNED_ACTION,
  caseId: null,
};

const headBody = (seq: number, hash: string) => utf8.encode(`${seq}\n${hash}`);

export function signAuditHead(head: AuditHead, signer: Signer): AuditHead {
  const signature = signer.sign(Domain.auditHead, headBody(head.seq, head.hash));
  return { seq: head.seq, hash: head.hash, publicKey: toHex(signer.publicKey), signature: toHex(signature) };
}

/**
 * Checks a head's signature; with `keys`, the head must be signed by one of them. A log with entries must have
 * a head then (a node writes one before its first entry).
 */
export function checkHeadSignature(
  head: AuditHead | undefined,
  entries: number,
  keys?: readonly Uint8Array[],
): void {
  if (head === undefined) {
    if (keys !== undefined && entries > 0)
      throw new AuditLogError(`the audit log has ${entries} entries but no head (deleted?)`, { head: null });
    return;
  }
  if (head.signature === undefined) {
    if (keys !== undefined) throw new AuditLogError('the audit head is not signed', { head: head.seq });
    return;
  }
  const pub = tryFromHex(head.publicKey ?? '');
  const sig = tryFromHex(head.signature);
  // The node signs with its validator key, Ed25519 or (on an sm2-sm3 chain, ADR 014) SM2: the key's length
  // names its suite (32 and 65 bytes), and with `keys` it must be one the caller trusts anyway.
  const verify = pub?.length === SM2_SM3.publicKeyLength ? SM2_SM3.verify : verifySignature;
  if (
    pub === undefined ||
    sig === undefined ||
    !verify(pub, Domain.auditHead, headBody(head.seq, head.hash), sig)
  )
    throw new AuditLogError('the audit head signature does not verify (head rewritten?)', { head: head.seq });
  if (keys !== undefined && !keys.some((k) => equalBytes(k, pub)))
    throw new AuditLogError(`the audit head is signed by ${head.publicKey}, not by the node's key`, {
      head: head.seq,
    });
}

export const headPathOf = (path: string) => `${path}.head`;

function readHead(path: string): AuditHead | undefined {
  const file = headPathOf(path);
  if (!existsSync(file)) return undefined;
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as AuditHead;
    const optional = (v: unknown) => v === undefined || typeof v === 'string';
    if (
      Number.isSafeInteger(h.seq) &&
      h.seq >= 0 &&
      typeof h.hash === 'string' &&
      optional(h.publicKey) &&
      optional(h.signature)
    )
      return h;
  } catch {
    // reported below
  }
  throw new AuditLogError(`audit head ${file} is unreadable`);
}

function writeHead(path: string, head: AuditHead): void {
  const tmp = `${headPathOf(path)}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(head)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, headPathOf(path));
}

/** Checks that the log still holds the entry its head names: a log cut at its tail fails here. */
export function checkAuditHead(entries: readonly AuditEntry[], head: AuditHead | undefined): void {
  if (head === undefined || head.seq === 0) return;
  const e = entries[head.seq - 1];
  if (e === undefined)
    throw new AuditLogError(
      `audit log truncated: its head records entry ${head.seq}, the log ends at entry ${entries.length}`,
      { head: head.seq, entries: entries.length },
    );
  if (e.hash !== head.hash)
    throw new AuditLogError(`audit log entry ${head.seq} is not the one its head records`, {
      line: head.seq,
    });
}

/** The head a node committed to the ledger (an `audit` tx, ADR 015): its log must still reach it. */
export interface CommittedAuditHead {
  seq: number;
  /** Hex. */
  hash: string;
}

export class AuditRollbackError extends JrError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('AUDIT_LOG_ROLLED_BACK', message, details);
  }
}

/**
 * A log shorter than the head committed on the chain, or whose entry at that seq hashes otherwise, was rolled
 * back (or rewritten) since: even with the node's key, the operator cannot take back a committed head.
 */
export function checkCommittedHead(
  entries: readonly AuditEntry[],
  committed: CommittedAuditHead | undefined,
): void {
  if (committed === undefined) return;
  const e = entries[committed.seq - 1];
  if (e === undefined)
    throw new AuditRollbackError(
      `audit log rolled back: the chain records entry ${committed.seq}, the log ends at entry ${entries.length}`,
      { committed: committed.seq, entries: entries.length },
    );
  if (e.hash !== committed.hash)
    throw new AuditRollbackError(
      `audit log entry ${committed.seq} is not the one the chain records (log rewritten)`,
      { committed: committed.seq },
    );
}

/**
 * Verifies a log file and its head (`jrchain audit verify`); throws AuditLogError at the first problem. With
 * `keys` (the node's public keys) the head must be signed by one of them.
 */
export function verifyAuditFile(
  path: string,
  keys?: readonly Uint8Array[],
): { entries: AuditEntry[]; head: AuditHead | undefined } {
  const lines = existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];
  const entries = verifyAuditLines(lines);
  const head = readHead(path);
  checkHeadSignature(head, entries.length, keys);
  // Without the node's keys the signer is not known, but a log whose heads are signed must have a signed head.
  if (entries.some((e) => e.action === HEAD_SIGNED_ACTION) && head?.signature === undefined)
    throw new AuditLogError('the audit log records signed heads but its head is missing or unsigned', {
      head: head?.seq ?? null,
    });
  checkAuditHead(entries, head);
  return { entries, head };
}

export class AuditLog {
  readonly #path: string | undefined;
  readonly #memory: string[] = [];
  readonly #now: () => number;
  readonly #signer: Signer | undefined;
  #seq: number;
  #last: string;

  /**
   * A log in `path` (checked on open), or in memory when `path` is undefined. With `signer` (the node's key)
   * every head is signed, and the head found on open must be signed by it.
   */
  constructor(path: string | undefined, now: () => number = Date.now, signer?: Signer) {
    this.#path = path;
    this.#now = now;
    this.#signer = signer;
    const entries = verifyAuditLines(this.#lines());
    this.#seq = entries.length;
    this.#last = entries.at(-1)?.hash ?? ZERO;
    if (path !== undefined) {
      const head = readHead(path);
      // Once the log records that its heads are signed, an unsigned or missing head is a rewritten one; a log
      // from before signed heads is checked as before and then adopted (the marker entry below).
      const signedEra = entries.some((e) => e.action === HEAD_SIGNED_ACTION);
      const strict = signer !== undefined && signedEra;
      checkHeadSignature(head, entries.length, strict ? [signer.publicKey] : undefined);
      checkAuditHead(entries, head);
      // A head behind a crash between the two writes (or from before head files): catch it up.
      this.#writeHead(this.#seq, this.#last);
      if (signer !== undefined && !signedEra) this.append(HEAD_SIGNED_EVENT);
    }
  }

  #writeHead(seq: number, hash: string): void {
    const head = { seq, hash };
    writeHead(this.#path!, this.#signer === undefined ? head : signAuditHead(head, this.#signer));
  }

  #lines(): string[] {
    if (this.#path === undefined) return this.#memory;
    if (!existsSync(this.#path)) return [];
    return readFileSync(this.#path, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  }

  /** Appends the events in order, with one fsync. */
  append(...events: AuditEvent[]): void {
    if (events.length === 0) return;
    const time = new Date(this.#now()).toISOString();
    const lines: string[] = [];
    let [seq, last] = [this.#seq, this.#last];
    for (const event of events) {
      const base = { seq: seq + 1, time, ...event, prev: last };
      const entry: AuditEntry = { ...base, hash: entryHash(base) };
      lines.push(JSON.stringify(entry));
      [seq, last] = [entry.seq, entry.hash];
    }
    if (this.#path === undefined) this.#memory.push(...lines);
    else {
      const fd = openSync(this.#path, 'a', 0o600);
      try {
        writeSync(fd, `${lines.join('\n')}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.#writeHead(seq, last);
    }
    // Only after the write: a failed append leaves the chain where the file is.
    [this.#seq, this.#last] = [seq, last];
  }

  /** The seq and hash of the last entry appended (seq 0 and 64 zeros for an empty log). */
  head(): { seq: number; hash: string } {
    return { seq: this.#seq, hash: this.#last };
  }

  /** Every entry, checked again (a log edited while the node runs fails here too). */
  entries(): AuditEntry[] {
    const entries = verifyAuditLines(this.#lines());
    if (this.#path !== undefined) checkAuditHead(entries, { seq: this.#seq, hash: this.#last });
    return entries;
  }
}
