/** Quoting for the few words the extension types into a terminal (URLs, session ids). */

/** Words every common shell reads literally stay bare; anything else is single-quoted (POSIX, PowerShell). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\-.:/@%+=,]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
