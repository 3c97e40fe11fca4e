/**
 * The text of the systemd user unit and of the macOS LaunchAgent that run `opencode-monitor
 * daemon`. Pure: nothing here touches the file system, so both formats are tested on any machine.
 * Every value comes from outside (paths, flags): each format's quoting is applied to all of them.
 */
import type { ServicePaths } from './servicePaths';

/** First line of every unit we write: uninstall removes only files that carry it. */
export const SERVICE_MARKER = 'Written by `opencode-monitor service install`; `opencode-monitor service uninstall` removes it.';

export interface ServiceSpec {
  paths: ServicePaths;
  /** Absolute path of the Node that runs the CLI (process.execPath at install). */
  node: string;
  /** Flags for that Node, before the script (runtime settings that only work on its command line). */
  nodeFlags: string[];
  /** Absolute path of dist/cli.js. */
  script: string;
  /** The daemon's own flags (after `daemon`). */
  daemonArgs: string[];
  /** The environment the daemon gets (PATH, HOME): never a secret. */
  env: Record<string, string>;
}

export class ServiceConfigError extends Error {}

export function renderUnit(spec: ServiceSpec): string {
  return spec.paths.platform === 'darwin' ? renderLaunchAgent(spec) : renderSystemdUnit(spec);
}

/** True when `text` is a unit this command wrote. */
export function isOurUnit(text: string): boolean {
  return text.includes(SERVICE_MARKER);
}

// ---- systemd ----------------------------------------------------------------------------------

/**
 * One ExecStart= argument: always double-quoted; `\` and `"` backslash-escaped, control characters
 * as C escapes (systemd unquotes with C unescaping), `%` doubled (specifiers expand even inside
 * quotes), `$` doubled (environment variables expand in every argument but the executable).
 */
export function systemdExecArg(value: string, isExecutable = false): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) as number;
    if (code === 0) throw new ServiceConfigError(`a NUL character cannot be passed to a program: ${JSON.stringify(value)}`);
    if (ch === '\\' || ch === '"') out += `\\${ch}`;
    else if (ch === '%') out += '%%';
    else if (ch === '$' && !isExecutable) out += '$$';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `"${out}"`;
}

/** Characters systemd refuses in the executable's path ("contains special characters"). */
const SYSTEMD_UNSAFE_EXECUTABLE = /["'\\\x00-\x1f\x7f]/;

/** One Environment= assignment: quoted like an argument, but `$` is literal there. */
function systemdEnvAssignment(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ServiceConfigError(`not an environment variable name: ${JSON.stringify(name)}`);
  return systemdExecArg(`${name}=${value}`, true);
}

export function renderSystemdUnit(spec: ServiceSpec): string {
  if (!spec.node.startsWith('/')) throw new ServiceConfigError(`the Node path must be absolute: ${spec.node}`);
  if (SYSTEMD_UNSAFE_EXECUTABLE.test(spec.node)) {
    throw new ServiceConfigError(`systemd refuses an executable path with quotes, backslashes or control characters: ${JSON.stringify(spec.node)}; run the install with a Node installed elsewhere`);
  }
  const exec = [systemdExecArg(spec.node, true), ...[...spec.nodeFlags, spec.script, 'daemon', ...spec.daemonArgs].map((a) => systemdExecArg(a))].join(' ');
  const env = Object.entries(spec.env).map(([k, v]) => systemdEnvAssignment(k, v));
  const lines = [
    `# ${SERVICE_MARKER}`,
    '[Unit]',
    'Description=OpenCode Monitor daemon (legacy state files, usage)',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    'Restart=on-failure',
    'RestartSec=5',
  ];
  if (env.length > 0) lines.push(`Environment=${env.join(' ')}`);
  const envFile = spec.paths.envFile;
  // EnvironmentFile= takes the rest of the line as a path (no quoting): only a plain one fits.
  if (envFile && envFile.startsWith('/') && !/[\x00-\x1f\x7f]/.test(envFile) && envFile.trim() === envFile) {
    lines.push('# Secrets (OPENCODE_SERVER_PASSWORD=…) go in this file, mode 0600, written by you; "-": optional.');
    lines.push(`EnvironmentFile=-${envFile.replace(/%/g, '%%')}`);
  }
  lines.push('', '[Install]', 'WantedBy=default.target', '');
  return lines.join('\n');
}

// ---- launchd ----------------------------------------------------------------------------------

/** XML text: the five specials escaped, CR kept as a reference; what XML cannot hold is refused. */
export function xmlEscape(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) as number;
    if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '"') out += '&quot;';
    else if (ch === "'") out += '&apos;';
    else if (ch === '\r') out += '&#13;';
    else if ((code < 0x20 && ch !== '\n' && ch !== '\t') || (code >= 0xd800 && code <= 0xdfff) || code === 0xfffe || code === 0xffff) {
      throw new ServiceConfigError(`a property list cannot hold the control character U+${code.toString(16).padStart(4, '0')} in ${JSON.stringify(value)}`);
    } else out += ch;
  }
  return out;
}

export function renderLaunchAgent(spec: ServiceSpec): string {
  if (!spec.node.startsWith('/')) throw new ServiceConfigError(`the Node path must be absolute: ${spec.node}`);
  const str = (v: string) => `<string>${xmlEscape(v)}</string>`;
  const args = [spec.node, ...spec.nodeFlags, spec.script, 'daemon', ...spec.daemonArgs].map((a) => `\t\t${str(a)}`);
  const env = Object.entries(spec.env).flatMap(([k, v]) => [`\t\t<key>${xmlEscape(k)}</key>`, `\t\t${str(v)}`]);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    `<!-- ${SERVICE_MARKER} -->`,
    '<plist version="1.0">',
    '<dict>',
    '\t<key>Label</key>',
    `\t${str(spec.paths.name)}`,
    '\t<key>ProgramArguments</key>',
    '\t<array>',
    ...args,
    '\t</array>',
    '\t<key>RunAtLoad</key>',
    '\t<true/>',
    // Restart after a crash, not after a clean exit (launchctl bootout / SIGTERM): on-failure.
    '\t<key>KeepAlive</key>',
    '\t<dict>',
    '\t\t<key>SuccessfulExit</key>',
    '\t\t<false/>',
    '\t</dict>',
    '\t<key>ThrottleInterval</key>',
    '\t<integer>5</integer>',
  ];
  if (env.length > 0) lines.push('\t<key>EnvironmentVariables</key>', '\t<dict>', ...env, '\t</dict>');
  if (spec.paths.stderrFile) lines.push('\t<key>StandardErrorPath</key>', `\t${str(spec.paths.stderrFile)}`);
  lines.push('</dict>', '</plist>', '');
  return lines.join('\n');
}
