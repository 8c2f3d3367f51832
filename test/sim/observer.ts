/**
 * An observer independent of the replicas: it sees every consensus message any endpoint puts on the network
 * (before loss, so also what a partition swallows), checks its signature against the sender's key in the
 * epoch the message names, and remembers what each key signed for each (epoch, view, seq, phase). A key that
 * signs two different values there has equivocated: an honest validator never may (its double-sign guard and
 * persistence order forbid it, across crashes too); a Byzantine one is only counted. PRE-PREPAREs re-issued
 * inside a NEW-VIEW count as the primary's PRE-PREPAREs for that view and seq.
 */
import { decodeMessage, prePrepareBody, signedPart } from '../../src/consensus/messages.ts';
import type { SignatureVerifier } from '../../src/consensus/types.ts';
import { toHex } from '../../src/core/bytes.ts';
import { Domain } from '../../src/core/crypto.ts';
import type { ValidatorSet } from '../../src/core/validators.ts';

export interface ObserverContext {
  /** The validator set of the epoch whose consensus chain id is `chainId`, if any endpoint knows it. */
  setFor(chainId: string): ValidatorSet | undefined;
  /** Key id of a public key (hex). */
  keyId(publicKeyHex: string): number | undefined;
  /** Whether every endpoint holding key `keyId` is honest. */
  honestKey(keyId: number): boolean;
  verify: SignatureVerifier;
  /** Reports a safety violation. */
  fail(message: string): void;
  /** Strict decoding (default decodeMessage); the driver simulation shares its receivers' (shared-decode.ts). */
  decode?: ((bytes: Uint8Array) => ReturnType<typeof decodeMessage>) | undefined;
}

export class Observer {
  /** `keyId|chainId|phase|view|seq` → hex of the signed value. */
  private readonly signed = new Map<string, string>();
  /** Equivocations by honest keys (each one a safety violation, reported through `fail`). */
  honestEquivocations = 0;
  /** Equivocations by Byzantine keys (expected from some behaviours). */
  byzantineEquivocations = 0;
  private readonly ctx: ObserverContext;
  /** Each set's members as key ids (sets are immutable; looked up once each, not on every send). */
  private readonly memberIds = new WeakMap<ValidatorSet, (number | undefined)[]>();

  constructor(ctx: ObserverContext) {
    this.ctx = ctx;
  }

  /**
   * Every consensus message put on the network, as bytes; `honestSender`: the key id of the honest endpoint that
   * sent it, which must be a member of the set of the epoch the message names.
   */
  onSend(bytes: Uint8Array, honestSender?: number): void {
    let m: ReturnType<typeof decodeMessage>;
    try {
      m = this.ctx.decode === undefined ? decodeMessage(bytes) : this.ctx.decode(bytes);
    } catch {
      return;
    }
    const set = this.ctx.setFor(m.chainId);
    const key = set?.validators[m.from];
    const ids = set === undefined ? undefined : this.idsOf(set);
    const keyId = key === undefined ? undefined : ids![m.from];
    // A member may relay another's message (a NEW-VIEW, say); a node outside the set sends nothing there.
    if (honestSender !== undefined && !ids?.includes(honestSender))
      this.ctx.fail(
        `membership: honest validator (key ${honestSender}) sent a ${m.type} in ${m.chainId}, outside its set`,
      );
    if (set === undefined || key === undefined) return;
    const { domain, body } = signedPart(m);
    if (!this.ctx.verify(key.publicKey, domain, body, m.signature) || keyId === undefined) return;
    if (m.type === 'prePrepare') this.note(keyId, m.chainId, 'pre-prepare', m.view, m.seq, m.digest);
    else if (m.type === 'prepare') this.note(keyId, m.chainId, 'prepare', m.view, m.seq, m.digest);
    else if (m.type === 'commit') this.note(keyId, m.chainId, 'commit', m.view, m.seq, m.headerHash);
    else if (m.type === 'checkpoint') this.note(keyId, m.chainId, 'checkpoint', 0, m.seq, m.headerHash);
    else if (m.type === 'newView') {
      for (const pp of m.prePrepares) {
        const ppBody = prePrepareBody(m.chainId, m.view, pp.seq, pp.digest);
        if (this.ctx.verify(key.publicKey, Domain.prePrepare, ppBody, pp.signature))
          this.note(keyId, m.chainId, 'pre-prepare', m.view, pp.seq, pp.digest);
      }
    }
  }

  private idsOf(set: ValidatorSet): (number | undefined)[] {
    let ids = this.memberIds.get(set);
    if (ids === undefined) {
      ids = set.validators.map((v) => this.ctx.keyId(toHex(v.publicKey)));
      this.memberIds.set(set, ids);
    }
    return ids;
  }

  private note(
    keyId: number,
    chainId: string,
    phase: string,
    view: number,
    seq: number,
    value: Uint8Array,
  ): void {
    const slot = `${keyId}|${chainId}|${phase}|${view}|${seq}`;
    const hex = toHex(value);
    const prev = this.signed.get(slot);
    if (prev === undefined) {
      this.signed.set(slot, hex);
      return;
    }
    if (prev === hex) return;
    if (!this.ctx.honestKey(keyId)) {
      this.byzantineEquivocations++;
      return;
    }
    this.honestEquivocations++;
    this.ctx.fail(
      `equivocation: honest validator (key ${keyId}) signed two ${phase}s in ${chainId} view ${view} seq ${seq}: ` +
        `${prev.slice(0, 12)} and ${hex.slice(0, 12)}`,
    );
  }
}
