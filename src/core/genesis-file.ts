/** Reading a genesis file (Node only; parsing itself, in genesis.ts, also runs in browsers). */
import { readFileSync, statSync } from 'node:fs';
import { type Genesis, GenesisError, GenesisErrorCode, parseGenesis } from './genesis.ts';
import { Limits } from './limits.ts';

export function loadGenesisFile(path: string): Genesis {
  let text: string;
  try {
    if (statSync(path).size > Limits.genesisFileBytes) {
      throw new GenesisError(
        GenesisErrorCode.tooLarge,
        `genesis ${path} is larger than ${Limits.genesisFileBytes} bytes`,
      );
    }
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof GenesisError) throw err;
    throw new GenesisError(
      GenesisErrorCode.unreadable,
      `cannot read genesis ${path}: ${(err as Error).message}`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new GenesisError(
      GenesisErrorCode.invalid,
      `genesis ${path} is not valid JSON: ${(err as Error).message}`,
    );
  }
  return parseGenesis(doc);
}
