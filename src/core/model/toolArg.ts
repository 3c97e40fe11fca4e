/**
 * The short human argument shown beside a running tool (`bash: npm test`), following the
 * legacy monitor's rules so the SwiftBar plugin shows the same text.
 */
const MAX_ARG = 200;

export function toolArg(tool: string, input: Record<string, unknown> | undefined, title?: string): string {
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);
  const pick = (...keys: string[]) => {
    for (const key of keys) {
      const value = text(input?.[key]);
      if (value) return value;
    }
    return undefined;
  };
  let arg: string | undefined;
  switch (tool) {
    case 'bash':
      arg = pick('command', 'description');
      break;
    case 'read':
    case 'write':
    case 'edit':
    case 'patch':
    case 'list':
      arg = pick('filePath', 'file_path', 'path');
      break;
    case 'glob':
    case 'grep':
      arg = pick('pattern');
      break;
    case 'task':
      arg = pick('description', 'prompt');
      break;
    case 'webfetch':
      arg = pick('url');
      break;
    case 'todowrite':
    case 'todoread':
      arg = '';
      break;
    default:
      arg = text(title) ?? pick('command', 'filePath', 'description', 'pattern', 'prompt', 'url', 'query');
      if (arg === undefined && input && Object.keys(input).length > 0) {
        try {
          arg = JSON.stringify(input).slice(0, 50);
        } catch {
          arg = '';
        }
      }
  }
  return oneLine(arg ?? text(title) ?? '').slice(0, MAX_ARG);
}

function oneLine(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]+/g, ' ').replace(/\s+/g, ' ').trim();
}
