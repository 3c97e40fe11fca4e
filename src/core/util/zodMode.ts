/**
 * zod compiles a fast parser per object schema with `new Function`, and first probes whether it
 * may by reading `globalThis.navigator`. VS Code's extension host traps that global and logs
 * `PendingMigrationError: navigator is now a global in nodejs` at error level on every activation
 * (issue 18). Without the compiled parsers zod reads neither: no eval, no trap, same results.
 * Both hosts call this before anything parses.
 */
import * as z from 'zod';

export function useZodWithoutEval(): void {
  z.config({ jitless: true });
}
