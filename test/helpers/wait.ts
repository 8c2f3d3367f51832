/** Condition waits: tests never sleep for a fixed time; they wait for a condition with a generous deadline. */

/** Polls `cond` (sync or async) until it holds; fails with `what` after `timeoutMs` (the machine may be loaded). */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 45_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
