/**
 * A cheap deterministic signature scheme for the simulation: sig = SHA-512(secret ‖ domain-separated body),
 * checked against a registry of the simulated keys. Only code holding a replica's SimSigner can make its
 * signatures, so a Byzantine replica can forge only by being written to. Never used outside tests.
 */

import type { SignatureVerifier } from '../../src/consensus/types.ts';
import { toHex, utf8 } from '../../src/core/bytes.ts';
import { type Domain, domainBytes, type Signer, sha256, sha512 } from '../../src/core/crypto.ts';
import type { ValidatorSet } from '../../src/core/validators.ts';

const secrets = new Map<string, Uint8Array>();

export class SimSigner implements Signer {
  readonly publicKey: Uint8Array;
  private readonly secret: Uint8Array;

  constructor(label: string) {
    this.secret = sha256(utf8.encode(`jrchain-sim-secret:${label}`));
    this.publicKey = sha256(utf8.encode('jrchain-sim-public'), this.secret);
    secrets.set(toHex(this.publicKey), this.secret);
  }

  sign(domain: Domain, body: Uint8Array): Uint8Array {
    return sha512(this.secret, domainBytes(domain, body));
  }
}

export const simVerify: SignatureVerifier = (publicKey, domain, body, signature) => {
  const secret = secrets.get(toHex(publicKey));
  if (secret === undefined || signature.length !== 64) return false;
  const want = sha512(secret, domainBytes(domain, body));
  for (let i = 0; i < 64; i++) if (want[i] !== signature[i]) return false;
  return true;
};

/** n validators `sim-<label>-<i>` with their signers. */
export function simValidators(n: number, label = 'v'): { set: ValidatorSet; signers: SimSigner[] } {
  const signers = Array.from({ length: n }, (_, i) => new SimSigner(`${label}-${i}`));
  return {
    signers,
    set: { validators: signers.map((s, i) => ({ institution: `bank-${i}`, publicKey: s.publicKey })) },
  };
}
