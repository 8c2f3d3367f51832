/**
 * Where a key-file passphrase comes from: the JRCHAIN_KEY_PASSPHRASE environment variable, else a prompt
 * without echo when stdin and stderr are terminals. The passphrase is never printed or logged.
 */
import { readFileSync } from 'node:fs';
import { ENCRYPTED_KEY_FORMAT } from '../core/key-crypt.ts';
import { KEY_PASSPHRASE_ENV } from '../core/keys.ts';
import { UsageError } from './io.ts';

/** Reads one line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    // Echo goes off before the question shows, so a passphrase typed as soon as it appears is never echoed.
    stdin.setRawMode(true);
    process.stderr.write(question);
    stdin.resume();
    stdin.setEncoding('utf8');
    let line = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new UsageError('passphrase prompt interrupted'));
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else line += ch;
      }
    };
    stdin.on('data', onData);
  });
}

const interactive = () => process.stdin.isTTY === true && process.stderr.isTTY === true;

/** The passphrase typed at the last prompt of this process (memory only), for the case-key store. */
let prompted: string | undefined;

/** The passphrase of an existing encrypted file; undefined leaves the loader to say it is required. */
async function existingPassphrase(file: string): Promise<string | undefined> {
  const env = process.env[KEY_PASSPHRASE_ENV];
  if (env !== undefined && env !== '') return env;
  if (!interactive()) return undefined;
  prompted = await promptHidden(`passphrase for ${file}: `);
  return prompted;
}

/**
 * The passphrase this process has for its key files: JRCHAIN_KEY_PASSPHRASE, else the one typed at a prompt
 * (the institution's key files and its case-key store share it, ADR 015).
 */
export function sessionPassphrase(): string | undefined {
  const env = process.env[KEY_PASSPHRASE_ENV];
  return env !== undefined && env !== '' ? env : prompted;
}

/** Whether `file` is a passphrase-encrypted key file (read without opening it; false when unreadable). */
export function isEncryptedFile(file: string): boolean {
  try {
    return JSON.parse(readFileSync(file, 'utf8')).format === ENCRYPTED_KEY_FORMAT;
  } catch {
    return false;
  }
}

/** A new passphrase (asked twice on a terminal); at least 8 characters. */
export async function newPassphrase(): Promise<string> {
  let p = process.env[KEY_PASSPHRASE_ENV];
  if (p === undefined || p === '') {
    if (!interactive())
      throw new UsageError(`set ${KEY_PASSPHRASE_ENV} to the new passphrase, or run on a terminal`);
    p = await promptHidden('new passphrase: ');
    if ((await promptHidden('repeat passphrase: ')) !== p) throw new UsageError('the passphrases differ');
  }
  if (p.length < 8) throw new UsageError('the passphrase must have at least 8 characters');
  return p;
}

/** Asks for a passphrase only when the file is an encrypted key file (else the loader decides). */
export async function passphraseIfEncrypted(file: string): Promise<string | undefined> {
  let format: unknown;
  try {
    format = JSON.parse(readFileSync(file, 'utf8')).format;
  } catch {
    return undefined; // the key loader reports the unreadable file with its own typed error
  }
  return format === ENCRYPTED_KEY_FORMAT ? existingPassphrase(file) : undefined;
}
