/**
 * The usage API behind a proxy: a loopback CONNECT proxy fixture sees the usage request when
 * `proxy` (VS Code's http.proxy) or HTTPS_PROXY says so, and does not when NO_PROXY covers the host.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { sendJson, startServer } from '../support/localServer';
import type { LocalServer } from '../support/localServer';
import { UsageCredential } from '../../../src/core/usage/usageCredential';
import { UsageClient, usageProxy } from '../../../src/core/usage/usageClient';
import { CLASSIC } from './fixtures';
import { secretToken } from './support';

/** A CONNECT-only proxy on 127.0.0.1 that tunnels to loopback targets and records them. */
async function startConnectProxy(): Promise<{ url: string; tunnels: string[]; close(): Promise<void> }> {
  const tunnels: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => {
    res.writeHead(405).end();
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? '';
    tunnels.push(target);
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
    if (host !== '127.0.0.1' && host !== 'localhost') {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('usage API through a proxy', () => {
  let api: LocalServer;
  let proxy: Awaited<ReturnType<typeof startConnectProxy>>;
  const credential = new UsageCredential(secretToken(), 'claude-code');

  before(async () => {
    api = await startServer((_req, res) => sendJson(res, CLASSIC));
    proxy = await startConnectProxy();
  });
  after(async () => {
    await api.close();
    await proxy.close();
  });

  const fetchWith = async (options: { proxy?: string; env: NodeJS.ProcessEnv }) => {
    const client = new UsageClient({ baseUrl: api.url, userAgent: 'opencode-monitor/9.9.9', timeoutMs: 3_000, ...options });
    try {
      return await client.fetchUsage(credential);
    } finally {
      await client.close();
    }
  };
  const apiHostPort = () => new URL(api.url).host;

  it('goes through the proxy of the setting (http.proxy)', async () => {
    const before = proxy.tunnels.length;
    const data = await fetchWith({ proxy: proxy.url, env: {} });
    assert.ok(data.fiveHour);
    assert.deepEqual(proxy.tunnels.slice(before), [apiHostPort()]);
  });

  it('goes through HTTPS_PROXY from the environment', async () => {
    const before = proxy.tunnels.length;
    await fetchWith({ env: { HTTPS_PROXY: proxy.url } });
    assert.deepEqual(proxy.tunnels.slice(before), [apiHostPort()]);
  });

  it('NO_PROXY bypasses it', async () => {
    const before = proxy.tunnels.length;
    const data = await fetchWith({ proxy: proxy.url, env: { NO_PROXY: '127.0.0.1' } });
    assert.ok(data.fiveHour);
    assert.equal(proxy.tunnels.length, before);
  });

  it('no proxy configured: direct', async () => {
    const before = proxy.tunnels.length;
    await fetchWith({ env: {} });
    assert.equal(proxy.tunnels.length, before);
    assert.equal(usageProxy(undefined, {}), undefined);
    assert.equal(usageProxy('', { https_proxy: 'http://p:1' }), 'http://p:1');
    assert.equal(usageProxy('http://setting:2', { HTTPS_PROXY: 'http://env:1' }), 'http://setting:2');
  });
});
