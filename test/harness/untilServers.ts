/** Waits for a ServerManager's list to pass a test, following its change events (no polling). */
import type { ServerManager } from '../../src/core/servers/serverManager';
import type { ManagedServerInfo } from '../../src/core/servers/types';

export function untilServers(m: ServerManager, test: (list: ManagedServerInfo[]) => boolean, label: string, timeoutMs: number): Promise<ManagedServerInfo[]> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const list = m.list();
      if (!test(list)) return false;
      clearTimeout(timer);
      sub.dispose();
      resolve(list);
      return true;
    };
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out waiting for ${label}: ${JSON.stringify(m.list())}`));
    }, timeoutMs);
    const sub = m.onDidChange(() => void check());
    check();
  });
}
