/** Reading HTTP bodies with a size cap, for every client of the core. */
import type { Dispatcher } from 'undici';

/** The body as text, or `tooLarge()` thrown as soon as it exceeds `cap` bytes (declared or read). */
export async function readCapped(response: Dispatcher.ResponseData, cap: number, tooLarge: () => Error): Promise<string> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > cap) {
    // Nobody reads this body: without a handler, the abort error would be uncaught.
    response.body.on('error', () => undefined);
    response.body.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > cap) {
      response.body.on('error', () => undefined);
      response.body.destroy();
      throw tooLarge();
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
