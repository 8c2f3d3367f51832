/** The code of the JrError a call throws (undefined if it returns); anything else is rethrown. */
import { isJrError } from '../../src/core/errors.ts';

export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (isJrError(err)) return err.code;
    throw err;
  }
  return undefined;
}

export async function codeOfAsync(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    if (isJrError(err)) return err.code;
    throw err;
  }
  return undefined;
}
