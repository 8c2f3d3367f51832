/**
 * Who may connect. Validators are admitted and dialed at their configured addresses; observers are admitted
 * but never dialed (they dial us). The genesis supplies the validators; observers come from node config.
 */

import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { Genesis } from '../core/genesis.ts';
import { P2PError, P2PErrorCode } from './errors.ts';

export interface ValidatorPeer {
  readonly peerId: string;
  /** Multiaddrs to dial, with or without a trailing /p2p/<peerId>. */
  readonly addrs: readonly string[];
}

export interface Allowlist {
  readonly validators: readonly ValidatorPeer[];
  /** Peer ids admitted without being dialed. */
  readonly observers?: readonly string[];
}

export type PeerRole = 'validator' | 'observer';

export function allowlistFromGenesis(genesis: Genesis, observers: readonly string[] = []): Allowlist {
  return {
    validators: genesis.validators.map((v) => ({ peerId: v.peerId, addrs: [...v.addrs] })),
    observers: [...observers],
  };
}

/** Validated, normalised form: each peer id parsed, each address ends in /p2p/<peerId>. */
export interface ResolvedAllowlist {
  readonly roles: ReadonlyMap<string, PeerRole>;
  readonly dialAddrs: ReadonlyMap<string, readonly string[]>;
}

export function resolveAllowlist(list: Allowlist): ResolvedAllowlist {
  const roles = new Map<string, PeerRole>();
  const dialAddrs = new Map<string, string[]>();
  for (const v of list.validators) {
    checkPeerId(v.peerId);
    if (roles.has(v.peerId)) throw invalid(`peer ${v.peerId} is listed twice`);
    roles.set(v.peerId, 'validator');
    dialAddrs.set(v.peerId, normaliseAddrs(v.peerId, v.addrs));
  }
  for (const o of list.observers ?? []) {
    checkPeerId(o);
    if (roles.has(o)) throw invalid(`peer ${o} is listed twice`);
    roles.set(o, 'observer');
  }
  return { roles, dialAddrs };
}

/** Addresses as dialable strings ending in /p2p/<peerId>; refuses an address naming another peer. */
export function normaliseAddrs(peerId: string, addrs: readonly string[]): string[] {
  return addrs.map((a) => {
    let ma: ReturnType<typeof multiaddr>;
    try {
      ma = multiaddr(a);
    } catch (err) {
      throw invalid(`peer ${peerId}: bad multiaddr ${JSON.stringify(a)}`, err);
    }
    const named = ma.getComponents().filter((c) => c.name === 'p2p');
    if (named.length === 0) return ma.encapsulate(`/p2p/${peerId}`).toString();
    if (named.length > 1 || named[0]!.value !== peerId)
      throw invalid(`peer ${peerId}: address ${a} names another peer`);
    return ma.toString();
  });
}

function checkPeerId(peerId: string): void {
  try {
    peerIdFromString(peerId);
  } catch (err) {
    throw invalid(`bad peer id ${JSON.stringify(peerId)}`, err);
  }
}

function invalid(msg: string, cause?: unknown): P2PError {
  return new P2PError(P2PErrorCode.configInvalid, `allowlist: ${msg}`, undefined, { cause });
}
