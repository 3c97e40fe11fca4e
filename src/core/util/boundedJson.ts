/**
 * A comparison key for server data of any shape: JSON, but nesting below `maxDepth` is cut (a
 * server can send a 20 000-deep field; JSON.stringify would overflow the stack, issue 11) and
 * the output is capped in length.
 */
export function boundedKey(value: unknown, maxDepth = 32, maxLength = 64 * 1024): string {
  const out: string[] = [];
  let length = 0;
  const push = (s: string): boolean => {
    out.push(s);
    length += s.length;
    return length < maxLength;
  };
  const walk = (v: unknown, depth: number): boolean => {
    if (v === null || typeof v !== 'object') return push(v === undefined ? 'null' : (JSON.stringify(v) ?? 'null'));
    if (depth >= maxDepth) return push('"…"');
    if (Array.isArray(v)) {
      if (!push('[')) return false;
      for (let i = 0; i < v.length; i++) if ((i > 0 && !push(',')) || !walk(v[i], depth + 1)) return false;
      return push(']');
    }
    if (!push('{')) return false;
    let first = true;
    for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
      if (item === undefined) continue;
      if ((!first && !push(',')) || !push(JSON.stringify(k) + ':') || !walk(item, depth + 1)) return false;
      first = false;
    }
    return push('}');
  };
  walk(value, 0);
  return out.join('');
}
