/**
 * Every RFC 3161 limit in one place. docs/timestamp.md lists them in a table; keep the two in step.
 * They bound memory and CPU per request, so that hostile input cannot exhaust a node or a server.
 */
export const TsaLimits = {
  /** Largest TimeStampReq the embedded TSA server reads (a SHA-512 request with a policy is ~130 B). */
  requestBytes: 4 * 1024,
  /** Largest TimeStampResp the HTTP client reads from a TSA. */
  responseBytes: 64 * 1024,
  /** Largest TimeStampResp or token the verifier decodes. */
  tokenBytes: 64 * 1024,
  /** Largest token accepted as evidence; equal to the ledger's `Limits.tsTokenBytes`. */
  evidenceTokenBytes: 16 * 1024,
  /** Certificates considered from a token plus those supplied as untrusted. Extra ones are an error. */
  certificates: 32,
  /** Trust anchors in one configuration. */
  trustAnchors: 32,
  /** Largest PEM bundle read for trust anchors or untrusted certificates. */
  pemBytes: 256 * 1024,
  /** Longest certification path, signer and trust anchor included. */
  pathLength: 8,
  /** Certificate signature checks one path search may spend (bounds work on injected certificates). */
  pathSignatureChecks: 64,
  /** HTTP client: default time for one attempt, and default attempts (1 + retries). */
  clientTimeoutMs: 10_000,
  clientRetries: 2,
  /** HTTP client: first backoff delay (doubled per retry, with jitter) and its cap. */
  clientBackoffMs: 250,
  clientBackoffMaxMs: 5_000,
  /** HTTP server: time allowed for one whole request (headers and body), and open connections. */
  serverRequestTimeoutMs: 10_000,
  serverMaxConnections: 256,
  /** HTTP server: how long stop() lets requests in flight finish before cutting connections. */
  serverStopGraceMs: 2_000,
  /** Serials the embedded TSA reserves (one fsync) before handing them out. */
  serialBlock: 1024,
} as const;
