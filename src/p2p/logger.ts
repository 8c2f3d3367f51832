/**
 * The logging the host needs: four levels, a fields object and a message. pino's logger satisfies this
 * interface as is (`logger.warn({ peer }, 'refused')`), and tests pass a recorder.
 */
export interface Logger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

const noop = (): void => {};

export const noopLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });
