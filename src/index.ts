export { createRouter, type RouterApp, type RouterOptions } from './app.ts';
export { ConfigSchema, RouteSchema, type Config, type ConfigInput, type Route } from './config/schema.ts';
export { loadConfig, resolveConfig, validateConfig, type ConfigSources } from './config/load.ts';
export { buildRouteTable, matchRoute, explainPath, type RouteEntry, type RouteTable } from './routing/route-table.ts';
export { fetchClient, type UpstreamClient, type UpstreamRequest } from './proxy/upstream-client.ts';
export { ConfigError, RuntimeFailure, UpstreamError } from './errors.ts';
export type { Bindings, Runtime, RunningServer } from './runtime.ts';
