/** Time and randomness as components, so unit tests can drive scoring, buckets and backoff by hand. */
export interface Clock {
  /** Milliseconds, monotonic enough for rates and deadlines (wall time is fine: only differences matter). */
  now(): number;
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/** Uniform in [0, 1). */
export type Random = () => number;
