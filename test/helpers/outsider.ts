/**
 * What an outsider finds in a ledger's txs (issue 17): each secret is searched for in every tx's bytes as raw
 * UTF-8, as lower- and upper-case hex, and as base64 / base64url at each of the three byte alignments, and in
 * the tx's decoded JSON view. Returns the secrets found, with where.
 */
import { toHex, utf8 } from '../../src/core/bytes.ts';

/** The forms a secret could take inside bytes or text. */
export function secretForms(secret: string): string[] {
  const raw = Buffer.from(utf8.encode(secret));
  const forms = [secret, toHex(raw), toHex(raw).toUpperCase()];
  for (let pad = 0; pad < 3; pad++) {
    const shifted = Buffer.concat([Buffer.alloc(pad), raw]);
    // Drop the characters that mix in the padding bytes or the bytes after the secret.
    for (const enc of ['base64', 'base64url'] as const) {
      const s = shifted.toString(enc).replace(/=+$/, '');
      const start = Math.ceil((pad * 4) / 3);
      const end = Math.floor(((pad + raw.length) * 4) / 3);
      if (end - start >= 8) forms.push(s.slice(start, end));
    }
  }
  return forms;
}

export function findSecrets(
  txs: { bytes: Uint8Array; view: string }[],
  secrets: readonly string[],
): { secret: string; form: string; tx: number }[] {
  const found: { secret: string; form: string; tx: number }[] = [];
  txs.forEach((t, i) => {
    const latin1 = Buffer.from(t.bytes).toString('latin1');
    const utf = Buffer.from(t.bytes).toString('utf8');
    for (const secret of secrets)
      for (const form of secretForms(secret))
        if (latin1.includes(form) || utf.includes(form) || t.view.includes(form))
          found.push({ secret, form, tx: i });
  });
  return found;
}
