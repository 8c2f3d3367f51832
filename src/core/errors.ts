/**
 * Errors are classes with string codes (Lodestar style). Every failure that crosses a module boundary is a
 * JrError carrying a stable `code` that tests, the API and the CLI can match on. A broken internal invariant is
 * an InvariantError: it stops the node loudly. Bad input from outside never does.
 */
export class JrError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** Raised when code reaches a state that must be impossible. Never caught to keep going. */
export class InvariantError extends JrError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('INVARIANT_BROKEN', message, details);
  }
}

export function invariant(
  condition: unknown,
  message: string,
  details?: Record<string, unknown>,
): asserts condition {
  if (!condition) throw new InvariantError(message, details);
}

/** True if `err` is a JrError with the given code (or any code when omitted). */
export function isJrError(err: unknown, code?: string): err is JrError {
  return err instanceof JrError && (code === undefined || err.code === code);
}
