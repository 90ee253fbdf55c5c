import { createRouter } from '../app.ts';
import type { Config } from '../config/schema.ts';
import { createLogger } from '../log/logger.ts';
import type { Runtime } from '../runtime.ts';
import { COMMIT, VERSION, versionLine } from '../version.ts';
import type { ParsedArgs } from './args.ts';
import { loadCliConfig } from './load-cli-config.ts';
import { formatRouteTable } from './route-listing.ts';

const SHUTDOWN_GRACE_MS = 5000;
const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|::1|\[::1\])$/i;

/** `rxroute [options]`: validate, bind, print the banner, serve until a signal. */
export async function serveCommand(args: ParsedArgs, runtime: Runtime): Promise<number | 'serving'> {
  const config = loadCliConfig(args, runtime);
  const disabled = disabledReason(config, args);
  if (disabled) {
    console.log(`rxroute: ${disabled}`);
    return 0;
  }
  const logger = createLogger({
    format: config.log,
    verbose: config.verbose,
    quiet: config.quiet,
    color: runtime.isTTY && config.log === 'pretty',
  });
  const app = createRouter(config, {
    upstream: runtime.upstream,
    connectSocket: runtime.connectSocket,
    files: runtime.files,
    probe: runtime.probe,
    logger,
    runtime: runtime.name,
  });
  if (!LOOPBACK.test(config.host)) {
    logger.warn(
      'exposed',
      `listening on ${config.host}: anyone who can reach this address can use your dev servers and Django admin; use --host 127.0.0.1 unless you mean it`,
    );
  }
  const server = await runtime.serve({ fetch: app.fetch, hostname: config.host, port: config.port });
  const open = openUrl(server.url, config);
  if (logger.format === 'json') {
    logger.info('listening', `rxroute ${VERSION} listening on ${server.url}`, {
      url: server.url,
      open,
      runtime: runtime.name,
      version: VERSION,
      commit: COMMIT,
      runtimeVersion: runtime.version,
      profile: config.profile,
      routes: [...app.table.entries, app.table.catchAll],
    });
  } else {
    console.log(
      `\n  ${versionLine(runtime)}, profile ${config.profile}\n\n  ➜  Open: ${open}\n\n${formatRouteTable(app.table)}\n`,
    );
  }

  // Graceful shutdown: stop accepting, close relayed sockets with 1001 (going
  // away), give in-flight requests up to 5 s. A second signal exits at once.
  let stopping = false;
  const stop = () => {
    if (stopping) runtime.exit(0);
    stopping = true;
    if (logger.format === 'json') logger.info('stopping', 'rxroute stopping');
    const force = setTimeout(() => runtime.exit(0), SHUTDOWN_GRACE_MS);
    app.closeSockets('rxroute is shutting down');
    server.close().finally(() => {
      clearTimeout(force);
      runtime.exit(0);
    });
  };
  runtime.onSignal('SIGINT', stop);
  runtime.onSignal('SIGTERM', stop);
  return 'serving';
}

/** The URL to open: localhost for loopback binds (matches REFLEX_API_URL), plus frontend_path. */
function openUrl(serverUrl: string, config: Config): string {
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
