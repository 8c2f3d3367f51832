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

/**
 * Process exit codes of the CLI, so scripts can tell failures apart. Every error-code enum declares, beside
 * itself, which of these each of its codes exits with (`exitCodes`); docs/cli.md lists them.
 */
export const ExitCode = {
  ok: 0,
  /** The command ran and the answer is "no": invalid, not proven, rejected. */
  failed: 1,
  /** Bad flags or arguments. */
  usage: 2,
  /** An input file that cannot be read or parsed. */
  badInput: 3,
  /** A node, TSA or other service could not be reached or answered with an error. */
  unavailable: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code of each code of one error-code enum. */
export type ExitCodeTable<C extends string = string> = Readonly<Record<C, ExitCode>>;

/**
 * Builds an enum's exit-code table from one entry per enum key, so a code added without an exit code does not
 * compile (and test/unit/cli/exit-codes.test.ts fails).
 */
export function exitCodes<const E extends Readonly<Record<string, string>>>(
  codes: E,
  byKey: { readonly [K in keyof E]: ExitCode },
): ExitCodeTable<E[keyof E]> {
  const table = {} as Record<E[keyof E], ExitCode>;
  for (const key of Object.keys(codes) as (keyof E)[]) table[codes[key]] = byKey[key];
  return table;
}

/** Codes of the errors declared in this file. */
export const CoreErrorCode = {
  /** An InvariantError: the code reached a state that must be impossible (a bug). */
  invariant: 'INVARIANT_BROKEN',
} as const;
export type CoreErrorCode = (typeof CoreErrorCode)[keyof typeof CoreErrorCode];
export const CoreErrorExit = exitCodes(CoreErrorCode, { invariant: ExitCode.failed });

/** Raised when code reaches a state that must be impossible. Never caught to keep going. */
export class InvariantError extends JrError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(CoreErrorCode.invariant, message, details);
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
