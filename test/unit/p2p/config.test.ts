import { describe, expect, it } from 'vitest';
import { allowlistFromGenesis, normaliseAddrs, resolveAllowlist } from '../../../src/p2p/allowlist.ts';
import { validateLimits, validateProtocols } from '../../../src/p2p/config.ts';
import { P2PErrorCode } from '../../../src/p2p/errors.ts';
import {
  createP2PHost,
  DEFAULT_HOST_LIMITS,
  DEFAULT_PROTOCOLS,
  type ProtocolConfig,
  ProtocolId,
} from '../../../src/p2p/index.ts';
import { resolveHostLimits } from '../../../src/p2p/limits.ts';
import { codeOf } from '../../helpers/errors.ts';
import { testGenesis } from '../../helpers/fixtures.ts';
import { testPeerId, testSeed } from '../../helpers/p2p.ts';

const a = testPeerId('a');
const b = testPeerId('b');

describe('allowlist', () => {
  it('normalises addresses to end in /p2p/<peerId>', () => {
    expect(normaliseAddrs(a, ['/ip4/127.0.0.1/tcp/7000', `/ip4/127.0.0.1/tcp/7001/p2p/${a}`])).toEqual([
      `/ip4/127.0.0.1/tcp/7000/p2p/${a}`,
      `/ip4/127.0.0.1/tcp/7001/p2p/${a}`,
    ]);
  });

  it('refuses an address naming another peer, bad addresses, bad and duplicate peer ids', () => {
    expect(codeOf(() => normaliseAddrs(a, [`/ip4/127.0.0.1/tcp/7000/p2p/${b}`]))).toBe(
      P2PErrorCode.configInvalid,
    );
    expect(codeOf(() => normaliseAddrs(a, ['not a multiaddr']))).toBe(P2PErrorCode.configInvalid);
    expect(codeOf(() => resolveAllowlist({ validators: [{ peerId: 'nope', addrs: [] }] }))).toBe(
      P2PErrorCode.configInvalid,
    );
    expect(
      codeOf(() =>
        resolveAllowlist({
          validators: [{ peerId: a, addrs: [] }],
          observers: [a],
        }),
      ),
    ).toBe(P2PErrorCode.configInvalid);
  });

  it('takes validators and their addresses from the genesis; observers are admitted but not dialled', () => {
    const genesis = testGenesis();
    const list = allowlistFromGenesis(genesis, [b]);
    const resolved = resolveAllowlist(list);
    expect(list.validators.map((v) => v.peerId)).toEqual(genesis.validators.map((v) => v.peerId));
    expect(resolved.roles.get(b)).toBe('observer');
    expect(resolved.dialAddrs.has(b)).toBe(false);
    const v0 = genesis.validators[0]!;
    expect(resolved.dialAddrs.get(v0.peerId)).toEqual([`${v0.addrs[0]}/p2p/${v0.peerId}`]);
  });
});

describe('protocol and limit validation', () => {
  it('accepts the defaults', () => {
    expect(() => validateProtocols(DEFAULT_PROTOCOLS)).not.toThrow();
    expect(() => validateLimits(DEFAULT_HOST_LIMITS, DEFAULT_PROTOCOLS)).not.toThrow();
  });

  it('refuses unversioned, duplicate and empty protocol sets and impossible sizes', () => {
    const consensus = DEFAULT_PROTOCOLS[0]! as ProtocolConfig & { kind: 'message' };
    const cases: ProtocolConfig[][] = [
      [],
      [{ ...consensus, id: '/jrchain/consensus' }],
      [consensus, consensus],
      [{ ...consensus, maxFrameBytes: 0 }],
      [{ ...consensus, maxFrameBytes: 1 << 30 }],
      [{ ...consensus, maxQueueBytes: consensus.maxFrameBytes - 1 }],
      [{ ...consensus, maxQueueFrames: 1.5 }],
    ];
    for (const c of cases) expect(codeOf(() => validateProtocols(c))).toBe(P2PErrorCode.configInvalid);
  });

  it('refuses a byte bucket too small for the largest frame, and inverted backoff', () => {
    expect(
      codeOf(() => validateLimits(resolveHostLimits({ inboundBytes: { burst: 1024 } }), DEFAULT_PROTOCOLS)),
    ).toBe(P2PErrorCode.configInvalid);
    expect(
      codeOf(() =>
        validateLimits(resolveHostLimits({ backoff: { baseMs: 10, capMs: 5 } }), DEFAULT_PROTOCOLS),
      ),
    ).toBe(P2PErrorCode.configInvalid);
    expect(codeOf(() => validateLimits(resolveHostLimits({ stallTimeoutMs: 0 }), DEFAULT_PROTOCOLS))).toBe(
      P2PErrorCode.configInvalid,
    );
  });
});

describe('host construction and local misuse', () => {
  const init = { seed: testSeed('a'), listen: ['/ip4/127.0.0.1/tcp/0'], allowlist: { validators: [] } };

  it('derives the peer id from the seed exactly as core/keys does', () => {
    expect(createP2PHost(init).peerId).toBe(a);
  });

  it('refuses a bad seed or listen address', () => {
    expect(codeOf(() => createP2PHost({ ...init, seed: new Uint8Array(31) }))).toBe(
      P2PErrorCode.configInvalid,
    );
    expect(codeOf(() => createP2PHost({ ...init, listen: [] }))).toBe(P2PErrorCode.configInvalid);
    expect(codeOf(() => createP2PHost({ ...init, listen: ['tcp://x'] }))).toBe(P2PErrorCode.configInvalid);
  });

  it('refuses unknown protocols, oversize frames, duplicate handlers and use before start', async () => {
    const host = createP2PHost(init);
    expect(codeOf(() => host.send(b, '/jrchain/nope/1.0.0', new Uint8Array(1)))).toBe(
      P2PErrorCode.unknownProtocol,
    );
    // A request protocol is not a message protocol and vice versa.
    expect(codeOf(() => host.send(b, ProtocolId.sync, new Uint8Array(1)))).toBe(P2PErrorCode.unknownProtocol);
    expect(codeOf(() => host.onRequest(ProtocolId.tx, () => new Uint8Array(0)))).toBe(
      P2PErrorCode.unknownProtocol,
    );
    expect(codeOf(() => host.send(b, ProtocolId.tx, new Uint8Array(1024 * 1024 + 1)))).toBe(
      P2PErrorCode.frameTooLarge,
    );
    expect(codeOf(() => host.send(b, ProtocolId.tx, new Uint8Array(1)))).toBe(P2PErrorCode.notStarted);
    await expect(host.request(b, ProtocolId.sync, new Uint8Array(1))).rejects.toMatchObject({
      code: P2PErrorCode.notStarted,
    });
    await expect(host.request(b, ProtocolId.sync, new Uint8Array(64 * 1024 + 1))).rejects.toMatchObject({
      code: P2PErrorCode.frameTooLarge,
    });
    host.onMessage(ProtocolId.tx, () => undefined);
    expect(codeOf(() => host.onMessage(ProtocolId.tx, () => undefined))).toBe(P2PErrorCode.handlerExists);
    expect(codeOf(() => host.updatePeerAddrs(b, ['/ip4/127.0.0.1/tcp/1']))).toBe(P2PErrorCode.configInvalid);
  });
});
