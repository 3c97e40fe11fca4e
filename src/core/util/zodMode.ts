/**
 * zod compiles a fast parser per object schema with `new Function`, and first probes whether it
 * may by reading `globalThis.navigator`. VS Code's extension host traps that global and logs
 * `PendingMigrationError: navigator is now a global in nodejs` at error level on every activation
 * (issue 18). Without the compiled parsers zod reads neither: no eval, no trap, same results.
 * Both hosts import this module before any other that uses zod.
 */
import * as z from 'zod';

// At import: zod decides per object schema, when the schema is built, and modules build theirs
// as they load (the real-VS-Code test caught the bundle's schemas reading `navigator` before
// activate() ran when this was a function it called).
z.config({ jitless: true });
