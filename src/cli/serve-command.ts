import { createRouter, type RouterApp } from '../app.ts';
import { type Config, servesHttps } from '../config/schema.ts';
import type { ProcessRegistry } from '../dev/process-types.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import type { RunningServer, Runtime } from '../runtime.ts';
import { COMMIT, VERSION, versionLine } from '../version.ts';
import type { ParsedArgs } from './args.ts';
import { selfProxyProblem } from '../config/self-proxy.ts';
import { loadCliConfigWithSources, printNotes } from './load-cli-config.ts';
import { formatRouteTable, formatUpstreamSources, upstreamSources } from './route-listing.ts';

const SHUTDOWN_GRACE_MS = 5000;
const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|::1|\[::1\])$/i;

/** `rxroute [options]`: validate, bind, print the banner, serve until a signal. */
export async function serveCommand(args: ParsedArgs, runtime: Runtime): Promise<number | 'serving'> {
  const { config, origin, notes } = loadCliConfigWithSources(args, runtime, 'run');
  printNotes(notes);
  const disabled = disabledReason(config, args);
  if (disabled) {
    console.log(`rxroute: ${disabled}`);
    return 0;
  }
  const selfProxy = selfProxyProblem(config, origin);
  if (selfProxy) throw selfProxy;
  const serving = await serveRouter(config, runtime, { origin });
  onStopSignal(runtime, () => serving.shutdown());
  return 'serving';
}

export interface ServeRouterOptions {
  /** `rxroute dev`'s children, for the status page and /__rxroute/health. */
  processes?: ProcessRegistry;
  /** Where each setting came from: the banner names each upstream's source. */
  origin?: Map<string, string>;
  /** Extra banner text after the route table (pretty log only). */
  bannerExtra?: string;
  logger?: Logger;
}

export interface ServingRouter {
  app: RouterApp;
  server: RunningServer;
  logger: Logger;
  /** The URL a person opens (`http://localhost:3000/`). */
  open: string;
  /** Stops accepting, closes relayed sockets with 1001, waits up to 5 s for in-flight requests. */
  shutdown(): Promise<void>;
}

export function routerLogger(config: Config, runtime: Runtime): Logger {
  return createLogger({
    format: config.log,
    verbose: config.verbose,
    quiet: config.quiet,
    color: runtime.isTTY && config.log === 'pretty',
    write: (line) => runtime.out.write(line),
  });
}

/** Builds the router for `config`, binds it and prints the banner; shared by `rxroute` and `rxroute dev`. */
export async function serveRouter(config: Config, runtime: Runtime, options: ServeRouterOptions = {}): Promise<ServingRouter> {
  const logger = options.logger ?? routerLogger(config, runtime);
  const app = createRouter(config, {
    upstream: runtime.upstream,
    connectSocket: runtime.connectSocket,
    files: runtime.files,
    probe: runtime.probe,
    logger,
    runtime: runtime.name,
    processes: options.processes,
  });
  if (!LOOPBACK.test(config.host)) {
    logger.warn(
      'exposed',
      `listening on ${config.host}: anyone who can reach this address can use your dev servers and Django admin; use --host 127.0.0.1 unless you mean it`,
    );
  }
  // Certificates before binding: a bad --cert/--key is exit 2, never a half-started server.
  const tls = servesHttps(config) ? await (await import('../tls/server-certificate.ts')).serverTls(config, runtime.env, runtime.hostFiles) : undefined;
  const server = await runtime.serve({
    fetch: app.fetch,
    hostname: config.host,
    port: config.port,
    tls: tls && { cert: tls.cert, key: tls.key, http2: true },
  });
  const open = openUrl(server.url, config);
  const protocols = !tls ? undefined : server.http2?.offered ? 'HTTP/2 and HTTP/1.1 (ALPN)' : `HTTP/1.1 only (${server.http2?.reason ?? 'no HTTP/2'})`;
  for (const note of tls?.notes ?? []) logger.warn('tls', note);
  if (logger.format === 'json') {
    logger.info('listening', `rxroute ${VERSION} listening on ${server.url}`, {
      url: server.url,
      open,
      runtime: runtime.name,
      version: VERSION,
      commit: COMMIT,
      runtimeVersion: runtime.version,
      profile: config.profile,
      ...(tls && { tls: { certificate: tls.source, http2: server.http2?.offered ?? false, protocols } }),
      routes: [...app.table.entries, app.table.catchAll],
      upstreams: upstreamSources(config, options.origin ?? new Map()),
    });
  } else {
    const tlsLines = tls ? `  ➜  TLS:  ${protocols}\n          certificate: ${tls.source}\n` : '';
    runtime.out.write(
      `\n  ${versionLine(runtime)}, profile ${config.profile}\n\n  ➜  Open: ${open}\n${tlsLines}\n${formatRouteTable(app.table)}\n\n  upstreams\n${formatUpstreamSources(upstreamSources(config, options.origin ?? new Map()), '    ')}\n${options.bannerExtra ?? ''}`,
    );
  }
  const shutdown = async () => {
    if (logger.format === 'json') logger.info('stopping', 'rxroute stopping');
    app.closeSockets('rxroute is shutting down');
    let force: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([server.close(), new Promise<void>((resolve) => (force = setTimeout(resolve, SHUTDOWN_GRACE_MS)))]);
    clearTimeout(force);
  };
  return { app, server, logger, open, shutdown };
}

/**
 * SIGINT / SIGTERM run `stop` once, then exit 0; a second signal exits at once.
 * Graceful shutdown: stop accepting, close relayed sockets with 1001 (going
 * away), give in-flight requests up to 5 s.
 */
export function onStopSignal(runtime: Runtime, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) runtime.exit(0);
    stopping = true;
    stop().finally(() => runtime.exit(0));
  };
  runtime.onSignal('SIGINT', handler);
  runtime.onSignal('SIGTERM', handler);
}

/** The URL to open: localhost for loopback binds (matches REFLEX_API_URL), plus frontend_path. */
export function openUrl(serverUrl: string, config: Config): string {
  const url = new URL(serverUrl);
  if (LOOPBACK.test(url.hostname)) url.hostname = 'localhost';
  const path = config.frontend_path ? `${config.frontend_path.replace(/\/?$/, '/')}` : '/';
  return `${url.origin}${path.startsWith('/') ? path : `/${path}`}`;
}

/** Why there is nothing to run, or undefined when the router should start. */
function disabledReason(config: Config, args: ParsedArgs): string | undefined {
  if (!config.proxy.enabled) {
    return 'the router is disabled by configuration (proxy.enabled=false); set it to true in rxroute.json to run it';
  }
  const servesSomething = config.dev_proxy || config.frontend_present || config.serve_from_build || config.compile_dev;
  if (!servesSomething) {
    const source = args.flags.origin.get('dev_proxy') ?? 'from RX_DEV_PROXY or rxroute.json';
    return `the dev proxy is disabled (dev_proxy=false ${source}); set RX_DEV_PROXY=1 to proxy Vite, or serve_from_build / compile_dev to serve the build from disk`;
  }
  return undefined;
}
