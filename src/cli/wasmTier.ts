/**
 * Imported first by the CLI. undici parses HTTP with a WebAssembly build of llhttp; V8 compiles
 * it twice, quickly (Liftoff) and then optimised (TurboFan) in the background, and the second
 * compile alone takes ~35 MB for a moment, which the allocator keeps: measured on the daemon,
 * peak 110 → 74 MB and ~10 MB less resident after. Liftoff's code parses the small answers of
 * OpenCode servers as fast (2 000 requests: 288 ms with the optimised code, 244 ms without).
 * Only the CLI's own process: the extension host is shared with other extensions and is left alone.
 * Set here it works on Node 20 only: Node 24 (V8 13.6) ignores it at run time (50 requests: peak
 * 88 MB either way, 66 MB with the flag on the command line), which is why the service unit also
 * passes it to Node (DAEMON_NODE_FLAGS in daemonTiers.ts).
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--liftoff-only');
