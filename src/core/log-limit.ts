/**
 * A log-line budget: at most `perWindow` lines per `windowMs`, so a peer or client that provokes a warning
 * on purpose cannot flood the log. The first line after a window with suppressed lines reports how many.
 */
export class LogBudget {
  private windowStart = Number.NEGATIVE_INFINITY;
  private used = 0;
  private suppressed = 0;

  private readonly perWindow: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(perWindow = 10, windowMs = 10_000, now: () => number = Date.now) {
    this.perWindow = perWindow;
    this.windowMs = windowMs;
    this.now = now;
  }

  /**
   * Whether a line may be logged now; when it may, `suppressed` is how many were dropped in the window
   * before (0 when none).
   */
  take(): { ok: true; suppressed: number } | { ok: false } {
    const t = this.now();
    let before = 0;
    if (t - this.windowStart >= this.windowMs) {
      before = this.suppressed;
      this.windowStart = t;
      this.used = 0;
      this.suppressed = 0;
    }
    if (this.used >= this.perWindow) {
      this.suppressed++;
      return { ok: false };
    }
    this.used++;
    return { ok: true, suppressed: before };
  }
}
