/** Bash's `$'…'` (ANSI-C) quoting, for the shell reader. */
/** Decodes a `$'…'` string starting after the opening quote. */
export function readAnsiC(src: string, from: number): { value: string; end: number } {
  let value = '';
  let i = from;
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };
  while (i < src.length && src[i] !== "'") {
    const c = src[i]!;
    if (c !== '\\') {
      value += c;
      i++;
      continue;
    }
    const n = src[i + 1];
    if (n === undefined) {
      i++;
      break;
    }
    if (simple[n] !== undefined) {
      value += simple[n];
      i += 2;
    } else if (n === 'x') {
      const m = /^[0-9a-fA-F]{1,2}/.exec(src.slice(i + 2, i + 4));
      value += m ? String.fromCharCode(parseInt(m[0], 16)) : 'x';
      i += 2 + (m ? m[0].length : 0);
    } else if (n === 'u' || n === 'U') {
      const m = /^[0-9a-fA-F]{1,8}/.exec(src.slice(i + 2, i + (n === 'u' ? 6 : 10)));
      const cp = m ? parseInt(m[0], 16) : NaN;
      value += Number.isFinite(cp) && cp <= 0x10ffff ? String.fromCodePoint(cp) : n;
      i += 2 + (m ? m[0].length : 0);
    } else if (n >= '0' && n <= '7') {
      const m = /^[0-7]{1,3}/.exec(src.slice(i + 1, i + 4))!;
      value += String.fromCharCode(parseInt(m[0], 8) & 0xff);
      i += 1 + m[0].length;
    } else {
      value += '\\' + n;
      i += 2;
    }
  }
  return { value, end: i + 1 };
}
