/**
 * A cheap deterministic signature scheme for the simulation: sig = SHA-512(secret ‖ domain-separated body),
 * checked against a registry of the simulated keys. Only code holding a replica's SimSigner can make its
 * signatures, so a Byzantine replica can forge only by being written to. Never used outside tests. The
 * production-ledger world (ledger-world.ts) signs consensus messages with it too, under its genesis' Ed25519
 * validator keys: Ed25519 cost half of a run's CPU there, and the checks are the same code either way.
 */

import type { SignatureVerifier } from '../../src/consensus/types.ts';
import { equalBytes, toHex, utf8 } from '../../src/core/bytes.ts';
import { type Domain, domainBytes, type Signer, sha256, sha512 } from '../../src/core/crypto.ts';
import type { ValidatorSet } from '../../src/core/validators.ts';

const secrets = new Map<string, Uint8Array>();

export class SimSigner implements Signer {
  readonly publicKey: Uint8Array;
  private readonly secret: Uint8Array;

  /**
   * `publicKey`: stand in for that (e.g. Ed25519) key of a genesis, whose signatures simVerify then checks
   * with this signer's secret; by default a public key derived from the secret.
   */
  constructor(label: string, publicKey?: Uint8Array) {
    this.secret = sha256(utf8.encode(`jrchain-sim-secret:${label}`));
    this.publicKey = publicKey ?? sha256(utf8.encode('jrchain-sim-public'), this.secret);
    secrets.set(toHex(this.publicKey), this.secret);
  }

  sign(domain: Domain, body: Uint8Array): Uint8Array {
    return sha512(this.secret, domainBytes(domain, body));
  }
}

/**
 * The secret behind a public key: remembered per key object (sets hold the same objects all run), with a copy of
 * the key's bytes to compare, so a key changed in place is looked up afresh. Only found keys are remembered.
 */
const byKeyObject = new WeakMap<Uint8Array, { key: Uint8Array; secret: Uint8Array }>();
function secretOf(publicKey: Uint8Array): Uint8Array | undefined {
  const known = byKeyObject.get(publicKey);
  if (known !== undefined && equalBytes(known.key, publicKey)) return known.secret;
  const secret = secrets.get(toHex(publicKey));
  if (secret !== undefined) byKeyObject.set(publicKey, { key: publicKey.slice(), secret });
  return secret;
}

export const simVerify: SignatureVerifier = (publicKey, domain, body, signature) => {
  const secret = secretOf(publicKey);
  if (secret === undefined || signature.length !== 64) return false;
  const want = sha512(secret, domainBytes(domain, body));
  for (let i = 0; i < 64; i++) if (want[i] !== signature[i]) return false;
  return true;
};

/**
 * `verify`, remembering each verdict: a message's signature is checked by every receiver, the observer and
 * again inside certificates, so one check per distinct (key, domain, body, signature) saves most of the hashing.
 * One memo per run (it grows with the run).
 */
export function memoVerify(verify: SignatureVerifier): SignatureVerifier {
  type Entry = {
    publicKey: Uint8Array;
    domain: string;
    body: Uint8Array;
    signature: Uint8Array;
    ok: boolean;
  };
  // Keyed by the signature's first 5 bytes as a number (no hex string per check); entries compare everything.
  const seen = new Map<number, Entry[]>();
  return (publicKey, domain, body, signature) => {
    let key = signature.length;
    for (let i = 0; i < 5 && i < signature.length; i++) key = key * 256 + signature[i]!;
    const entries = seen.get(key) ?? [];
    for (const e of entries)
      if (
        e.domain === domain &&
        equalBytes(e.signature, signature) &&
        equalBytes(e.publicKey, publicKey) &&
        equalBytes(e.body, body)
      )
        return e.ok;
    const ok = verify(publicKey, domain, body, signature);
    entries.push({
      publicKey: publicKey.slice(),
      domain,
      body: body.slice(),
      signature: signature.slice(),
      ok,
    });
    seen.set(key, entries);
    return ok;
  };
}

/** n validators `sim-<label>-<i>` with their signers. */
export function simValidators(n: number, label = 'v'): { set: ValidatorSet; signers: SimSigner[] } {
  const signers = Array.from({ length: n }, (_, i) => new SimSigner(`${label}-${i}`));
  return {
    signers,
    set: { validators: signers.map((s, i) => ({ institution: `bank-${i}`, publicKey: s.publicKey })) },
  };
}
