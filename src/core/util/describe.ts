/** Error text for people: the message, with the errno code and the cause when they add something. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const cause = (error as { cause?: unknown }).cause;
    const causeText = cause instanceof Error && cause.message !== error.message ? ` (${cause.message})` : '';
    return `${code && !error.message.includes(code) ? code + ': ' : ''}${error.message}${causeText}`;
  }
  return String(error);
}
