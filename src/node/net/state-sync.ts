/**
 * State sync: the StateSync the consensus driver asks to catch up, and the status poll that tells the core it
 * is behind when nothing else would (docs/protocol.md, "State transfer").
 *
 * Transfer. Asked for a certified target (seq, header hash), it fetches ranges of blocks from peers
 * (`blocks` requests, never one block per request) and checks each block before it executes anything:
 * chain id, height, prevHash chaining from the local head, validator set, txCount and txRoot over the txs,
 * then the commit certificate (a quorum of valid signatures over the header hash); the block at the target
 * height must have the target hash. It then parses the block's txs (only now: a range is held as bytes) and
 * executes it through the ledger (Chain.buildBlock on its own batch, which must reproduce the same header with
 * no tx refused) and stores it with its certificate (Chain.commitBlock, told the certificate is checked). After
 * each range it reports progress to the core (`stateTransferred`). It writes only while the core has a
 * transfer outstanding: it stops at its target, and the core neither builds nor commits meanwhile.
 *
 * Faults. A peer whose data fails a check is penalised through the host (`reject`: repeat offenders are banned)
 * and skipped for `faultyPeerCooldownMs`; the next range comes from another peer. Blocks of the same response
 * that passed every check before the bad one are kept. When no peer can serve the next block of a transfer the
 * core asked for, the transfer stands down and tells the core, which finishes that block by consensus.
 *
 * Status poll. Every `statusIntervalMs` it asks each connected validator for its status: head with its commit
 * certificate, and stable checkpoint with its proof. A certified checkpoint above this node's goes to the core
 * (`peerProgress`), which adopts it; so does a certified head above this node's while this node's head has not
 * moved since the previous poll (the core then transfers up to it). So a node that restarts, or starts from an
 * empty data directory, catches up by itself even while the chain is quiet, when no CHECKPOINT or COMMIT would
 * ever reach it.
 */

import { quorumScheme, verifyCheckpointProof } from '../../consensus/certificates.ts';
import { DropError, DropReason } from '../../consensus/errors.ts';
import type { StateSync } from '../../consensus/interfaces.ts';
import type { CheckpointProof } from '../../consensus/messages.ts';
import type { TransferredBlock } from '../../consensus/types.ts';
import type { CommitCertificate } from '../../core/block.ts';
import { type BlockHeader, CertError, CertErrorCode, verifyCommitCertificate } from '../../core/block.ts';
import { equalBytes } from '../../core/bytes.ts';
import { CodecError } from '../../core/codec.ts';
import { isJrError } from '../../core/errors.ts';
import { merkleRoot } from '../../core/merkle.ts';
import type { TxEnvelope } from '../../core/tx.ts';
import { faultTolerance, type ValidatorSet, validatorSetHash } from '../../core/validators.ts';
import type { BuiltBlock } from '../../ledger/chain.ts';
import { LedgerErrorCode } from '../../ledger/errors.ts';
import { ProtocolId, Verdicts } from '../../p2p/index.ts';
import { SyncError, SyncErrorCode } from './errors.ts';
import {
  DEFAULT_STATE_SYNC_LIMITS,
  type Fetching,
  type RunStats,
  rateOf,
  realTimer,
  type StateSyncDeps,
  type StateSyncLimits,
  type SyncProgress,
  type Target,
} from './state-sync-deps.ts';
import {
  decodeBlockTxs,
  decodeRawBlocksResponse,
  decodeSigsResponse,
  decodeStatusResponse,
  encodeSyncRequest,
  type RawSyncBlock,
  type SyncStatus,
  signatureOf,
  signaturesDigest,
} from './sync-messages.ts';

/** Polls asked for by pollSoon() come at least this far apart. */
const MIN_POLL_GAP_MS = 250;

export class StateSyncClient implements StateSync {
  readonly #d: StateSyncDeps;
  readonly #limits: StateSyncLimits;
  #setHash: { set: ValidatorSet; hash: Uint8Array };
  readonly #abort = new AbortController();
  #target: Target | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  /** Standing down from a stalled transfer until the core has taken it in: requests meanwhile are stale. */
  #standingDown = false;
  #wake: (() => void) | undefined;
  /** Last known head height of each peer (from its status, or an empty blocks response). */
  readonly #heights = new Map<string, number>();
  /** Peers not to ask until then (epoch ms). */
  readonly #resting = new Map<string, number>();
  #turn = 0;
  #run: RunStats | undefined;
  #rate: { blocksPerSec: number; txsPerSec: number } | undefined;
  #lastError: string | undefined;
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  #polling: Promise<void> | undefined;
  #lastPollAt = Number.NEGATIVE_INFINITY;
  /** The local head height at the previous poll (-1 before the first: a starting node counts as not moving). */
  #polledAt = -1;
  /** The highest head and stable checkpoint already handed to the core, so each goes once. */
  #sentHead = 0;
  #sentStable = 0;

  constructor(deps: StateSyncDeps, limits: StateSyncLimits = DEFAULT_STATE_SYNC_LIMITS) {
    this.#d = deps;
    this.#limits = limits;
    this.#setHash = { set: deps.quorum.set, hash: validatorSetHash(deps.quorum.set, deps.quorum.suite) };
  }

  /** The set that signs block `height`, and its hash (cached while it stays the same). */
  #setAt(height: number): { set: ValidatorSet; hash: Uint8Array } {
    const set = this.#d.epochs.setAt(height);
    if (set !== this.#setHash.set) this.#setHash = { set, hash: validatorSetHash(set, this.#d.quorum.suite) };
    return this.#setHash;
  }

  // ---- the StateSync contract ----

  requestTransfer(targetSeq: number, headerHash: Uint8Array): void {
    this.#follow({ seq: targetSeq, headerHash, byCore: true });
  }

  /** Transfers up to `target` (the core's request, or a head this client follows with no core to hand it to). */
  #follow(target: Target): void {
    if (this.#stopped || this.#standingDown) return;
    if (this.#target === undefined || target.seq > this.#target.seq) this.#target = target;
    if (this.#running === undefined) {
      this.#running = this.#transfer()
        .catch((err: unknown) => this.#fatal(err))
        .finally(() => {
          this.#running = undefined;
        });
    }
    this.#wake?.();
  }

  // ---- lifecycle ----

  /** Starts the status poll (transfers run whenever the core asks, started or not). */
  start(): void {
    this.#pollTimer = setInterval(() => this.pollSoon(), this.#limits.statusIntervalMs);
    this.#pollTimer.unref();
  }

  /** Stops polling, aborts requests in flight, and waits for the block being stored to be stored. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#pollTimer !== undefined) clearInterval(this.#pollTimer);
    this.#abort.abort();
    this.#wake?.();
    await Promise.allSettled([this.#running, this.#polling]);
  }

  /** A peer connected: a transfer waiting for one may go on. */
  peerConnected(): void {
    this.#wake?.();
  }

  progress(): SyncProgress {
    const syncing = this.#running !== undefined;
    const out: SyncProgress = { state: syncing ? 'syncing' : 'idle' };
    if (syncing && this.#target !== undefined) out.targetHeight = this.#target.seq;
    const rate = this.#run !== undefined ? rateOf(this.#run, this.#d.now()) : this.#rate;
    if (rate !== undefined) {
      out.blocksPerSec = rate.blocksPerSec;
      out.txsPerSec = rate.txsPerSec;
    }
    if (this.#lastError !== undefined) out.lastError = this.#lastError;
    return out;
  }

  /** Last known head height of each peer. */
  knownHeight(peerId: string): number | undefined {
    return this.#heights.get(peerId);
  }

  // ---- transfer ----

  async #transfer(): Promise<void> {
    const run: RunStats = { startedAt: this.#d.now(), blocks: 0, txs: 0 };
    this.#run = run;
    this.#lastError = undefined;
    // The next range, asked for while the current one is checked and stored; dropped unless it starts at the
    // head the current one leaves (a fault cuts a range short).
    let next: Fetching | undefined;
    try {
      for (;;) {
        const target = this.#target;
        const head = this.#d.chain.head();
        if (this.#stopped || target === undefined || head.height >= target.seq) return;
        const from = head.height + 1;
        const fetching = next?.from === from ? next : this.#startFetch(from, target.seq);
        next = undefined;
        if (fetching === undefined) {
          this.#lastError = `no validator to fetch block ${from} from (${this.#unavailability()})`;
          if (target.byCore) return await this.#standDown(head.height);
          await this.#sleep(this.#limits.retryMs);
          continue;
        }
        const { blocks, vouched } = await fetching.range;
        if (blocks === undefined) continue;
        if (blocks.length === 0) {
          // It has no block `from`: do not ask it again until its status shows more.
          this.#heights.set(fetching.peer, head.height);
          continue;
        }
        const after = from + blocks.length;
        if (after <= target.seq && !this.#stopped) next = this.#startFetch(after, target.seq);
        await this.#store(fetching.peer, blocks, vouched, run);
      }
    } finally {
      if (run.blocks > 0) this.#rate = rateOf(run, this.#d.now());
      this.#run = undefined;
    }
  }

  /**
   * No peer can serve the next block of a transfer the core waits for (the only one holding it may have lied):
   * it ends, so the core can finish that block by consensus; requests until the core took that in are stale.
   */
  async #standDown(head: number): Promise<void> {
    this.#target = undefined;
    this.#standingDown = true;
    try {
      await this.#d.consensus.stalled(head);
    } finally {
      this.#standingDown = false;
    }
  }

  /** Asks the next peer in turn for the blocks from `from` up to `last`; undefined when no peer can serve. */
  #startFetch(from: number, last: number): Fetching | undefined {
    const peer = this.#pickPeer(from);
    if (peer === undefined) return undefined;
    const count = Math.min(this.#limits.blocksPerRequest, last - from + 1);
    const range = this.#fetch(peer, from, count).then(async (blocks) => ({
      blocks,
      vouched: blocks !== undefined && blocks.length > 0 && (await this.#vouched(peer, blocks)),
    }));
    // A dropped prefetch is never awaited: its failure (a bug, since nothing in it throws) must not go unhandled.
    range.catch(() => {});
    return { peer, from, range };
  }

  /** Blocks [from, from+count) as the peer sent them; undefined when the request failed. */
  async #fetch(peer: string, from: number, count: number): Promise<RawSyncBlock[] | undefined> {
    let bytes: Uint8Array;
    try {
      const req = encodeSyncRequest({ kind: 'blocks', from, count });
      bytes = await this.#d.host.request(peer, ProtocolId.sync, req, this.#requestOptions());
    } catch (err) {
      if (!this.#stopped) this.#unavailable(peer, err);
      return undefined;
    }
    let blocks: RawSyncBlock[];
    try {
      blocks = decodeRawBlocksResponse(bytes); // each block's txs are parsed when it is executed
    } catch (err) {
      this.#fault(
        peer,
        new SyncError(SyncErrorCode.badResponse, `blocks response: ${(err as Error).message}`),
      );
      return undefined;
    }
    if (blocks.length > count) {
      this.#fault(
        peer,
        new SyncError(SyncErrorCode.badResponse, `${blocks.length} blocks for ${count} asked`),
      );
      return undefined;
    }
    return blocks;
  }

  /** Checks, executes and stores blocks in order, then reports what was stored to the core. */
  async #store(
    peer: string,
    blocks: readonly RawSyncBlock[],
    vouched: boolean,
    run: RunStats,
  ): Promise<void> {
    const stored: TransferredBlock[] = [];
    try {
      for (const b of blocks) {
        if (this.#stopped) break;
        const built = await this.#apply(b, vouched);
        stored.push({
          seq: built.header.height,
          headerHash: built.hash,
          txHashes: built.txs.map((t) => t.hash),
        });
        run.blocks++;
        run.txs += built.txs.length;
        this.#d.onStored(built);
      }
    } catch (err) {
      if (!(err instanceof SyncError)) throw err;
      this.#fault(peer, err);
    } finally {
      const last = stored[stored.length - 1];
      if (last !== undefined) {
        // It has at least what it sent (a short range may only mean its response limit was reached).
        const known = this.#heights.get(peer);
        if (known !== undefined && known < last.seq) this.#heights.set(peer, last.seq);
        this.#d.consensus.transferred(last.seq, last.headerHash, stored);
      }
    }
  }

  /**
   * Whether f other validators hold the client signatures `peer` served for these blocks (docs/protocol.md,
   * "Signatures at catch-up"): with the peer, f+1 validators vouch for them, so an honest one verified them,
   * and execution need not verify them again. The certificates cover the tx bodies but not the signature
   * bytes, so without that a faulty peer could store signatures that do not verify. The range must lie in
   * one epoch (f is that set's); on any doubt (too few peers, a mismatch, a failed request) the signatures
   * are verified as before, and nobody is blamed: honest validators may hold different valid signatures of
   * one body when its client signed it twice.
   */
  async #vouched(peer: string, blocks: readonly RawSyncBlock[]): Promise<boolean> {
    const first = blocks[0]!.header;
    const last = first.height + blocks.length - 1;
    if (blocks.some((b) => !equalBytes(b.header.validatorSetHash, first.validatorSetHash))) return false;
    const f = faultTolerance(this.#setAt(first.height).set.validators.length);
    if (f === 0) return true;
    const now = this.#d.now();
    const others = this.#d.host
      .connectedPeers()
      .filter(
        (p) =>
          p !== peer &&
          this.#d.peers.isValidator(p) &&
          (this.#resting.get(p) ?? 0) <= now &&
          (this.#heights.get(p) ?? Number.POSITIVE_INFINITY) >= last,
      );
    if (others.length < f) return false;
    const digest = signaturesDigest(blocks.map((b) => b.txBytes.map(signatureOf)));
    const req = encodeSyncRequest({ kind: 'sigs', from: first.height, count: blocks.length });
    const answers = await Promise.all(
      others.slice(0, f).map(async (p) => {
        try {
          const bytes = await this.#d.host.request(p, ProtocolId.sync, req, this.#requestOptions());
          return decodeSigsResponse(bytes);
        } catch {
          return undefined;
        }
      }),
    );
    return answers.every((d) => d !== undefined && equalBytes(d, digest));
  }

  /** Verifies one block against the local head and the target, executes it, and stores it. */
  async #apply(b: RawSyncBlock, vouched: boolean): Promise<BuiltBlock> {
    const head = this.#d.chain.head();
    const h = b.header;
    const bad = (code: SyncErrorCode, msg: string) => new SyncError(code, `block ${h.height}: ${msg}`);
    if (h.chainId !== this.#d.quorum.chainId) throw bad(SyncErrorCode.badBlock, `chain ${h.chainId}`);
    if (h.height !== head.height + 1)
      throw bad(SyncErrorCode.badResponse, `expected block ${head.height + 1}`);
    if (!equalBytes(h.prevHash, head.hash))
      throw bad(SyncErrorCode.badBlock, 'prevHash is not the local head');
    const signers = this.#setAt(h.height);
    if (!equalBytes(h.validatorSetHash, signers.hash))
      throw bad(SyncErrorCode.badBlock, 'another validator set');
    const mismatch = () => bad(SyncErrorCode.badBlock, 'txs do not match the header (txCount, txRoot)');
    if (h.txCount !== b.txBytes.length) throw mismatch();
    const scheme = quorumScheme(this.#d.quorum);
    try {
      verifyCommitCertificate(b.cert, h, signers.set, this.#d.quorum.genesisHash, scheme);
    } catch (err) {
      if (err instanceof CertError) throw bad(SyncErrorCode.badCertificate, err.message);
      throw err;
    }
    const hash = b.cert.headerHash; // equal to headerHash(h): the certificate check compared them
    const target = this.#target;
    if (target?.headerHash !== undefined && h.height === target.seq && !equalBytes(hash, target.headerHash)) {
      throw bad(SyncErrorCode.targetMismatch, 'not the certified target');
    }
    const txs = decodeBlockTxs(b, this.#d.quorum.suite); // a malformed tx: SyncError badResponse
    const built = await this.#execute(h, txs, vouched);
    // txRoot after execution (nothing is stored yet): the rebuilt header's, computed once, if all were included.
    const leaves = built.rejected.length === 0 ? undefined : txs.map((t) => t.hash);
    const root = leaves === undefined ? built.header.txRoot : merkleRoot(leaves, this.#d.quorum.suite);
    if (!equalBytes(root, h.txRoot)) throw mismatch();
    if (!equalBytes(built.hash, hash) || built.rejected.length > 0) {
      // A certified block that does not re-execute: more than f validators signed it, or this node's
      // executor disagrees with theirs. Either way it must not be stored; say so loudly.
      this.#d.logger.error(
        { height: h.height, rejected: built.rejected.map((r) => r.code) },
        'sync: a certified block does not re-execute to itself',
      );
      throw bad(SyncErrorCode.notReexecuted, 'executing its txs gives another block');
    }
    await this.#d.chain.commitBlock(built, b.cert, { certificateVerified: true }); // checked above
    return built;
  }

  async #execute(h: BlockHeader, txs: TxEnvelope[], vouched: boolean): Promise<BuiltBlock> {
    try {
      // The block's own batch: its time is already max(previous time, proposed time), so it rebuilds exactly.
      const batch = { proposer: h.proposer, view: h.view, time: h.time, txs };
      return await this.#d.chain.buildBlock(batch, { signaturesVouched: vouched });
    } catch (err) {
      if (isJrError(err, LedgerErrorCode.invalidBatch)) {
        throw new SyncError(SyncErrorCode.badBlock, `block ${h.height}: ${(err as Error).message}`);
      }
      throw err;
    }
  }

  /** The next connected validator, in turn, that is not resting and may have block `from`. */
  #pickPeer(from: number): string | undefined {
    const now = this.#d.now();
    const candidates = this.#d.host
      .connectedPeers()
      .filter(
        (p) =>
          this.#d.peers.isValidator(p) &&
          (this.#resting.get(p) ?? 0) <= now &&
          (this.#heights.get(p) ?? Number.POSITIVE_INFINITY) >= from,
      );
    if (candidates.length === 0) return undefined;
    this.#turn = (this.#turn + 1) % candidates.length;
    return candidates[this.#turn];
  }

  #unavailability(): string {
    const now = this.#d.now();
    const connected = this.#d.host.connectedPeers().filter((p) => this.#d.peers.isValidator(p));
    const resting = connected.filter((p) => (this.#resting.get(p) ?? 0) > now).length;
    return `${connected.length} connected, ${resting} of them resting after a failure`;
  }

  /** A request that failed without the peer being at fault (timeout, disconnect): ask others for a moment. */
  #unavailable(peer: string, err: unknown): void {
    this.#resting.set(peer, this.#d.now() + this.#limits.retryMs);
    this.#lastError = `request to ${peer} failed: ${isJrError(err) ? err.code : String(err)}`;
    this.#d.logger.debug({ peer, err: String(err) }, 'sync: request failed');
  }

  #fault(peer: string, err: SyncError): void {
    this.#d.host.report(peer, ProtocolId.sync, Verdicts.reject(err.code));
    this.#resting.set(peer, this.#d.now() + this.#limits.faultyPeerCooldownMs);
    this.#lastError = `${err.code} from ${peer}: ${err.message}`;
    this.#d.onFault(err.code);
    this.#d.logger.warn({ peer, code: err.code, err: err.message }, 'sync: peer served bad data');
  }

  #fatal(err: unknown): void {
    this.#stopped = true;
    this.#lastError = `sync stopped: ${String(err)}`;
    this.#d.logger.error({ err: String(err) }, 'sync: stopped by an error of this node');
    this.#d.onFatal(err);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let cancel: (() => void) | undefined;
      const done = (): void => {
        cancel?.();
        this.#wake = undefined;
        resolve();
      };
      cancel = (this.#d.setTimer ?? realTimer)(ms, done);
      this.#wake = done;
    });
  }

  #requestOptions(): { timeoutMs: number; signal: AbortSignal } {
    return { timeoutMs: this.#limits.requestTimeoutMs, signal: this.#abort.signal };
  }

  // ---- status poll ----

  /** Polls the connected validators now, unless a poll is running or one started very recently. */
  pollSoon(): void {
    const now = this.#d.now();
    if (this.#stopped || this.#polling !== undefined || now - this.#lastPollAt < MIN_POLL_GAP_MS) return;
    this.#lastPollAt = now;
    this.#polling = this.#poll()
      .catch((err: unknown) => this.#d.logger.warn({ err: String(err) }, 'sync: status poll failed'))
      .finally(() => {
        this.#polling = undefined;
      });
  }

  async #poll(): Promise<void> {
    const peers = this.#d.host.connectedPeers().filter((p) => this.#d.peers.isValidator(p));
    const statuses = await Promise.all(peers.map((p) => this.#statusOf(p)));
    if (this.#stopped) return;
    // A head above ours only matters while we are not moving: a node that commits keeps up by consensus (and
    // by checkpoints), and a hint a block ahead of it would only make it transfer what it is about to commit.
    const height = this.#d.chain.head().height;
    const moving = this.#polledAt >= 0 && height !== this.#polledAt;
    this.#polledAt = height;
    const ourHead = moving ? Number.POSITIVE_INFINITY : Math.max(height, this.#sentHead);
    const ourStable = Math.max(this.#d.consensus.stableSeq(), this.#sentStable);
    // A head certified in a later view than the core's also matters at any height: the core missed a view
    // change (while restarting, say, in a chain that has been quiet since) and asks for that view.
    const ourView = this.#d.consensus.view();
    let head: CommitCertificate | undefined;
    let stable: CheckpointProof | undefined;
    const beyond: number[] = [];
    for (const [i, s] of statuses.entries()) {
      if (s === undefined) continue;
      const peer = peers[i]!;
      const above = s.height > Math.max(ourHead, head?.height ?? 0);
      const laterView = head === undefined && s.head !== undefined && s.head.cert.view > ourView;
      if (s.head !== undefined && (above || laterView)) {
        const verdict = this.#checkHead(peer, s);
        if (verdict === 'ok') head = s.head.cert;
        else if (verdict === 'otherEpoch') beyond.push(s.height);
      }
      if (s.stable.seq > Math.max(ourStable, stable?.seq ?? 0) && this.#checkStable(s.stable)) {
        stable = s.stable;
      }
    }
    // A head this node cannot check is signed in an epoch it has not reached (ADR 006). One peer saying so
    // proves nothing (it may lie); f+1 of them include an honest one, so this node's epoch has ended: fetch the
    // blocks up to the (f+1)-th highest such head, each checked against the set in force at its height as the
    // ledger learns it. A node that runs an instance stops it first: the core must not commit meanwhile.
    const epochs = this.#d.epochs;
    const f = faultTolerance(epochs.setAt(height + 1).validators.length);
    beyond.sort((a, b) => b - a);
    const proven = beyond.length > f ? beyond[f] : undefined;
    if (proven !== undefined && head === undefined) {
      this.#d.logger.info(
        { height, target: proven, peers: beyond.length },
        'sync: the validators are in a later epoch; following them by state transfer',
      );
      if (epochs.quorum() !== undefined) await epochs.suspend();
      this.#sentHead = Math.max(this.#sentHead, proven);
      this.#follow({ seq: proven, headerHash: undefined, byCore: false });
      return;
    }
    // With no instance there is no core to hand a checked head to: follow it directly.
    if (head !== undefined && epochs.quorum() === undefined) {
      this.#sentHead = Math.max(this.#sentHead, head.height);
      this.#follow({ seq: head.height, headerHash: head.headerHash, byCore: false });
      return;
    }
    if (head === undefined && stable === undefined) return;
    if (head !== undefined) this.#sentHead = head.height;
    if (stable !== undefined) this.#sentStable = stable.seq;
    this.#d.consensus.peerProgress(stable, head);
  }

  async #statusOf(peer: string): Promise<SyncStatus | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await this.#d.host.request(peer, ProtocolId.sync, STATUS_REQUEST, this.#requestOptions());
    } catch (err) {
      this.#d.logger.debug({ peer, err: String(err) }, 'sync: status request failed');
      return undefined;
    }
    try {
      const s = decodeStatusResponse(bytes);
      this.#heights.set(peer, s.height);
      return s;
    } catch (err) {
      const reason = err instanceof CodecError ? err.message : String(err);
      this.#fault(peer, new SyncError(SyncErrorCode.badResponse, `status response: ${reason}`));
      return undefined;
    }
  }

  /**
   * The head in a status is certified for this chain; otherwise the peer is at fault. A head that names
   * another set than the one this node knows in force at its height may be signed by a later epoch's set:
   * `otherEpoch`, not a fault (the transfer checks every block it fetches).
   */
  #checkHead(peer: string, s: SyncStatus): 'ok' | 'bad' | 'otherEpoch' {
    const { header, cert } = s.head!;
    try {
      if (header.chainId !== this.#d.quorum.chainId)
        throw new CertError(CertErrorCode.headerMismatch, 'another chain');
      const known = this.#setAt(header.height);
      if (!equalBytes(header.validatorSetHash, known.hash)) return 'otherEpoch';
      const { genesisHash } = this.#d.quorum;
      verifyCommitCertificate(cert, header, known.set, genesisHash, quorumScheme(this.#d.quorum));
      return 'ok';
    } catch (err) {
      if (!(err instanceof CertError)) throw err;
      this.#fault(
        peer,
        new SyncError(SyncErrorCode.badCertificate, `status head ${s.height}: ${err.message}`),
      );
      return 'bad';
    }
  }

  #checkStable(proof: CheckpointProof): boolean {
    const ctx = this.#d.epochs.quorum();
    if (ctx === undefined) return false;
    try {
      verifyCheckpointProof(ctx, proof, DropReason.badCheckpoint);
      return true;
    } catch (err) {
      if (!(err instanceof DropError)) throw err;
      // A proof the running instance cannot check may be of another epoch: no fault, it means nothing here.
      return false;
    }
  }
}

const STATUS_REQUEST = encodeSyncRequest({ kind: 'status' });
