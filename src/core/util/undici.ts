/**
 * The parts of undici the monitor uses, loaded file by file. undici's index also loads fetch,
 * WebSocket, the mock agents, caches and interceptors: most of the extension's start-up time for
 * code it never runs. The index also adds the `request()`-style methods to Dispatcher's prototype;
 * so does this module (same files, so an instance from either path has them).
 */
import type * as U from 'undici';

const DispatcherClass = require('undici/lib/dispatcher/dispatcher') as { prototype: object };
Object.assign(DispatcherClass.prototype, require('undici/lib/api') as object);

export const Client = require('undici/lib/dispatcher/client') as typeof U.Client;
export const Pool = require('undici/lib/dispatcher/pool') as typeof U.Pool;
export const Agent = require('undici/lib/dispatcher/agent') as typeof U.Agent;
export const errors = require('undici/lib/core/errors') as typeof U.errors;
const { getGlobalDispatcher } = require('undici/lib/global') as { getGlobalDispatcher(): U.Dispatcher };

/** Proxy agents: only the usage API goes through a proxy, so they load on first use. */
export function proxyAgents(): { ProxyAgent: typeof U.ProxyAgent; EnvHttpProxyAgent: typeof U.EnvHttpProxyAgent } {
  return {
    ProxyAgent: require('undici/lib/dispatcher/proxy-agent') as typeof U.ProxyAgent,
    EnvHttpProxyAgent: require('undici/lib/dispatcher/env-http-proxy-agent') as typeof U.EnvHttpProxyAgent,
  };
}

/** undici's `request(url, options)`: same split of the URL into origin and path, same default dispatcher. */
export function request(url: string | URL, options: { dispatcher?: U.Dispatcher } & Omit<U.Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & { method?: U.Dispatcher.HttpMethod }): Promise<U.Dispatcher.ResponseData> {
  const parsed = new URL(url);
  const { dispatcher = getGlobalDispatcher(), ...rest } = options;
  return dispatcher.request({
    ...rest,
    origin: parsed.origin,
    path: parsed.search ? `${parsed.pathname}${parsed.search}` : parsed.pathname,
    method: rest.method ?? (rest.body ? 'PUT' : 'GET'),
  });
}
export type Client = U.Client;
export type Pool = U.Pool;
export type Agent = U.Agent;
