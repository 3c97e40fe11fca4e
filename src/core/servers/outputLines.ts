/**
 * A child's output arrives in arbitrary chunks; these helpers turn it into clean lines for the
 * log file, the stderr tail of error messages, and the listen-line parser.
 */

/** Splits a text stream into lines (LF or CRLF), however the chunks cut them. */
export class LineSplitter {
  private rest = '';

  /** A line longer than this is emitted in pieces: a child printing without newlines must not fill memory. */
  constructor(private readonly maxLineChars = 64 * 1024) {}

  /** The complete lines in `chunk` (with what was left over before), without their line ends. */
  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const parts = text.split('\n');
    this.rest = parts.pop() ?? '';
    const lines = parts.map(stripCr);
    while (this.rest.length > this.maxLineChars) {
      lines.push(this.rest.slice(0, this.maxLineChars));
      this.rest = this.rest.slice(this.maxLineChars);
    }
    return lines;
  }

  /** The unterminated last line, if any (call once the stream ended). */
  flush(): string[] {
    const rest = this.rest;
    this.rest = '';
    return rest === '' ? [] : [stripCr(rest)];
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

// CSI/OSC escape sequences (colours, cursor moves, titles), then any other control character but tab.
const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[@-Z\\-_])/g;
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/** The text of an output line without terminal escapes or control characters (tabs kept). */
export function cleanLine(line: string): string {
  return line.replace(ANSI, '').replace(CONTROL, '');
}

/** The last `capacity` lines written, oldest first. */
export class LineRing {
  private readonly lines: string[] = [];

  constructor(private readonly capacity = 20) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }

  values(): string[] {
    return [...this.lines];
  }
}
