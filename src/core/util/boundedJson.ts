/**
 * A comparison key for server data of any shape: its JSON, or, when that cannot be had (a server
 * can send a 20 000-deep field; JSON.stringify overflows the stack, issue 11) or is over
 * `maxLength`, a walk that cuts nesting below `maxDepth` and caps the length.
 */
export function boundedKey(value: unknown, maxDepth = 32, maxLength = 64 * 1024): string {
  // Native JSON first: the usual data is shallow and small, and this runs for every session on
  // every event and round (the walk below was a third of a 50-server cold start). Nesting deep
  // enough to overflow the stack throws and takes the walk; so does anything over the cap.
  if (value === undefined) return 'null';
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  if (json !== undefined && json.length <= maxLength) return json;
  return walkedKey(value, maxDepth, maxLength);
}

function walkedKey(value: unknown, maxDepth: number, maxLength: number): string {
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
