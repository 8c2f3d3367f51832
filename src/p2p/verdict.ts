/**
 * What a handler tells the host about a frame after validating it. The host only scores: `reject` costs the
 * sender penalty points (docs/p2p.md, scoring), `ignore` (a duplicate, a stale view) costs nothing.
 */
export type Verdict =
  | { readonly action: 'accept' }
  | { readonly action: 'ignore'; readonly reason?: string }
  | { readonly action: 'reject'; readonly reason: string };

const ACCEPT: Verdict = Object.freeze({ action: 'accept' });

export const Verdicts = {
  accept: (): Verdict => ACCEPT,
  ignore: (reason?: string): Verdict =>
    reason === undefined ? { action: 'ignore' } : { action: 'ignore', reason },
  /** `reason` is logged; keep it short and free of peer-supplied text. */
  reject: (reason: string): Verdict => ({ action: 'reject', reason }),
} as const;

/**
 * Fire-and-forget handler. Returning nothing means accept. Frames from one peer on one protocol arrive in
 * order, one at a time: the next frame waits for the returned promise, and that peer's stream is paused
 * meanwhile (back-pressure lands on that peer only; other peers' frames keep flowing).
 */
// biome-ignore lint/suspicious/noConfusingVoidType: lets `async (peer, frame) => { ... }` handlers return nothing.
export type MessageHandler = (peerId: string, frame: Uint8Array) => Verdict | void | Promise<Verdict | void>;

/**
 * Request handler: return the response bytes, or a verdict to answer nothing (the requester gets
 * P2P_NO_RESPONSE; `reject` also penalises it). `signal` aborts at the server deadline or when the stream
 * dies, so long work can stop early.
 */
export type RequestHandler = (
  peerId: string,
  request: Uint8Array,
  signal: AbortSignal,
) => Uint8Array | Verdict | Promise<Uint8Array | Verdict>;
