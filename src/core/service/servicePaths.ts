/**
 * Where the background service lives per platform. Pure: the platform, home and environment are
 * passed in, so both layouts are testable on any machine.
 */
import * as path from 'node:path';

export type ServicePlatform = 'linux' | 'darwin';

export const SYSTEMD_UNIT_NAME = 'opencode-monitor.service';
export const LAUNCHD_LABEL = 'dev.opencode-monitor.daemon';

export interface ServicePaths {
  platform: ServicePlatform;
  /** The systemd unit or the LaunchAgent plist. */
  unitFile: string;
  /** The daemon's own rotating log (passed as --log-file). */
  logFile: string;
  /** launchd: where the process's stderr goes (only crashes and log-file failures land there). */
  stderrFile?: string;
  /** systemd: the optional EnvironmentFile the user writes for OPENCODE_SERVER_PASSWORD. */
  envFile?: string;
  /** systemd unit name / launchd label. */
  name: string;
}

export function servicePlatform(platform: NodeJS.Platform): ServicePlatform | undefined {
  return platform === 'linux' || platform === 'darwin' ? platform : undefined;
}

export function servicePaths(platform: ServicePlatform, home: string, env: NodeJS.ProcessEnv): ServicePaths {
  if (platform === 'darwin') {
    const logDir = path.join(home, 'Library', 'Logs', 'opencode-monitor');
    return {
      platform,
      unitFile: path.join(home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`),
      logFile: path.join(logDir, 'daemon.log'),
      stderrFile: path.join(logDir, 'daemon.stderr.log'),
      name: LAUNCHD_LABEL,
    };
  }
  // XDG variables must be absolute to count (XDG Base Directory spec).
  const xdg = (name: string, fallback: string[]) => {
    const value = env[name];
    return value && path.isAbsolute(value) ? value : path.join(home, ...fallback);
  };
  const config = xdg('XDG_CONFIG_HOME', ['.config']);
  return {
    platform,
    unitFile: path.join(config, 'systemd', 'user', SYSTEMD_UNIT_NAME),
    logFile: path.join(xdg('XDG_STATE_HOME', ['.local', 'state']), 'opencode-monitor', 'daemon.log'),
    envFile: path.join(config, 'opencode-monitor', 'service.env'),
    name: SYSTEMD_UNIT_NAME,
  };
}
