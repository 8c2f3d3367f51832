/**
 * The embedded TSA: answers DER TimeStampReqs with signed tokens (ECDSA, Ed25519 or SM2 with SM3, ESS
 * signingCertificateV2, ms genTime,
 * accuracy, persisted unique serials). It holds no global state; the HTTP server is a thin layer over it.
 */
import { createPublicKey, type KeyObject, sign } from 'node:crypto';
import { equalBytes } from '../core/bytes.ts';
import {
  acceptResponse,
  type Service,
  type StampOptions,
  type StampResult,
  type TimestampAuthority,
} from './authority.ts';
import { signingAlgorithmFor, signWith, sm2PrivateScalar } from './certs.ts';
import {
  encodeGrantedResponse,
  encodeRejection,
  encodeSignedAttrs,
  encodeToken,
  encodeTstInfo,
  generalNameDirectory,
  signingCertificateV2,
} from './encode.ts';
import { isTimestampError, TimestampError, TimestampErrorCode } from './errors.ts';
import { TsaLimits } from './limits.ts';
import { DEFAULT_TSA_POLICY, type HashAlg, HashAlgs } from './oids.ts';
import { buildTimeStampReq, parseTimeStampReq, type TimeStampRequest } from './request.ts';
import { type Cert, parseCertificate } from './x509.ts';

/** Where serial numbers come from: unique for the lifetime of the TSA (FileSerialStore persists them). */
export interface SerialSource {
  start(): Promise<void>;
  next(): Promise<bigint>;
  stop(): Promise<void>;
}

export interface EmbeddedTsaOptions {
  /** The TSA certificate (DER) and its private key (ECDSA P-256 or P-384, or Ed25519). */
  certificate: Uint8Array;
  privateKey: KeyObject;
  /** Intermediate certificates (DER) to embed after the TSA's own when a request sets certReq. */
  intermediates?: readonly Uint8Array[];
  serials: SerialSource;
  /** Policy put in tokens when the request names none (default DEFAULT_TSA_POLICY). */
  policy?: string;
  /** Policies a request may ask for (default: only `policy`). */
  acceptedPolicies?: readonly string[];
  /** Accuracy claimed in tokens; 0 omits the field (default 1000 ms). */
  accuracyMs?: number;
  /** Current time in ms since the epoch (default Date.now); tests pass a stopped clock. */
  clock?: () => number;
}

/** What the TSA did with one request, for the server's log. */
export interface TsaReply {
  der: Uint8Array;
  granted: boolean;
  /** The PKIFailureInfo name of a rejection. */
  failure?: string;
  detail: string;
  serial?: bigint;
}

class Reject extends Error {
  readonly failure: string;

  constructor(failure: string, message: string) {
    super(message);
    this.failure = failure;
  }
}

function signAsync(hash: HashAlg | null, data: Uint8Array, key: KeyObject): Promise<Uint8Array> {
  // SM2 signs in JavaScript (about 1 ms): node:crypto's SM2 does not use the standard user ID.
  if (sm2PrivateScalar(key) !== undefined) return Promise.resolve(signWith(key, data));
  // The callback form runs in libuv's thread pool, keeping the event loop free.
  return new Promise((resolve, reject) => {
    sign(hash, data, key, (err, sig) => (err ? reject(err) : resolve(new Uint8Array(sig))));
  });
}

export class EmbeddedTsa implements TimestampAuthority, Service {
  readonly certificate: Cert;
  readonly #key: KeyObject;
  readonly #intermediates: readonly Uint8Array[];
  readonly #serials: SerialSource;
  readonly #policy: string;
  readonly #accepted: ReadonlySet<string>;
  readonly #accuracyMs: number;
  readonly #clock: () => number;
  readonly #essAttr: Uint8Array;
  #running = false;

  constructor(opts: EmbeddedTsaOptions) {
    try {
      this.certificate = parseCertificate(opts.certificate);
    } catch (err) {
      throw new TimestampError(
        TimestampErrorCode.badConfig,
        `TSA certificate does not decode: ${(err as Error).message}`,
      );
    }
    const pub = new Uint8Array(createPublicKey(opts.privateKey).export({ type: 'spki', format: 'der' }));
    if (!equalBytes(pub, this.certificate.spki)) {
      throw new TimestampError(
        TimestampErrorCode.badConfig,
        'the TSA private key does not match its certificate',
      );
    }
    signingAlgorithmFor(opts.privateKey);
    this.#key = opts.privateKey;
    this.#intermediates = opts.intermediates ?? [];
    this.#serials = opts.serials;
    this.#policy = opts.policy ?? DEFAULT_TSA_POLICY;
    this.#accepted = new Set(opts.acceptedPolicies ?? [this.#policy]);
    this.#accuracyMs = opts.accuracyMs ?? 1000;
    this.#clock = opts.clock ?? Date.now;
    this.#essAttr = signingCertificateV2(this.certificate);
  }

  get policy(): string {
    return this.#policy;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    await this.#serials.start();
    this.#running = true;
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    await this.#serials.stop();
  }

  /** Answers one DER TimeStampReq. Never throws: bad requests and internal failures become rejections. */
  async respond(requestDer: Uint8Array): Promise<TsaReply> {
    try {
      if (!this.#running) throw new Reject('systemFailure', 'the TSA is not running');
      if (requestDer.length > TsaLimits.requestBytes) throw new Reject('badDataFormat', 'request too large');
      let req: TimeStampRequest;
      try {
        req = parseTimeStampReq(requestDer);
      } catch (err) {
        throw new Reject('badDataFormat', `request does not decode: ${(err as Error).message}`);
      }
      return await this.#grant(req);
    } catch (err) {
      const reject =
        err instanceof Reject
          ? err
          : new Reject('systemFailure', isTimestampError(err) ? err.message : 'internal error');
      return {
        der: encodeRejection(reject.failure, reject.message),
        granted: false,
        failure: reject.failure,
        detail: reject.message,
      };
    }
  }

  async #grant(req: TimeStampRequest): Promise<TsaReply> {
    const alg = req.hashAlg;
    if (!alg) throw new Reject('badAlg', `unsupported hash algorithm ${req.hashAlgOid}`);
    if (req.digest.length !== HashAlgs[alg].length) {
      throw new Reject(
        'badDataFormat',
        `a ${alg} digest is ${HashAlgs[alg].length} bytes, got ${req.digest.length}`,
      );
    }
    if (req.hasExtensions) throw new Reject('unacceptedExtension', 'request extensions are not supported');
    const policy = req.policy ?? this.#policy;
    if (!this.#accepted.has(policy)) throw new Reject('unacceptedPolicy', `policy ${policy} is not offered`);

    const serial = await this.#serials.next();
    const tstInfo = encodeTstInfo({
      policy,
      imprintDer: req.imprintDer,
      serial,
      genTime: new Date(this.#clock()),
      accuracyMs: this.#accuracyMs,
      ...(req.nonce === undefined ? {} : { nonce: req.nonce }),
      tsaName: generalNameDirectory(this.certificate.subject),
    });
    const sigAlg = signingAlgorithmFor(this.#key);
    // Ed25519 (RFC 8419) pairs with SHA-512 for the message digest; ECDSA uses its curve's hash.
    const digestAlg = sigAlg.hash ?? 'sha512';
    const signedAttrs = encodeSignedAttrs({ eContent: tstInfo, digestAlg, extra: [this.#essAttr] });
    const signature = await signAsync(sigAlg.hash, signedAttrs, this.#key);
    const token = encodeToken({
      eContent: tstInfo,
      digestAlg,
      signedAttrs,
      signatureAlgorithmId: sigAlg.algorithmId,
      signature,
      signer: this.certificate,
      certificates: req.certReq ? [this.certificate.der, ...this.#intermediates] : [],
    });
    return { der: encodeGrantedResponse(token), granted: true, detail: 'granted', serial };
  }

  async stamp(digest: Uint8Array, alg: HashAlg, opts: StampOptions = {}): Promise<StampResult> {
    if (!this.#running)
      throw new TimestampError(TimestampErrorCode.notStarted, 'the embedded TSA is not started');
    const req = buildTimeStampReq({
      digest,
      hashAlg: alg,
      certReq: opts.certReq ?? true,
      ...(opts.nonce === false ? { nonce: null } : {}),
      ...(opts.policy === undefined ? {} : { policy: opts.policy }),
    });
    const reply = await this.respond(req.der);
    return acceptResponse(req, reply.der, undefined);
  }
}
