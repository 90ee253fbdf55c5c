import type { Layer } from '../config/env.ts';
import { startSampleServers } from '../demo/sample-servers.ts';
import type { Runtime } from '../runtime.ts';
import type { ParsedArgs } from './args.ts';
import { loadCliConfig } from './load-cli-config.ts';
import { serveCommand } from './serve-command.ts';

/**
 * `rxroute demo`: the router in front of built-in sample upstreams (a
 * frontend page, a Reflex-like backend, a Django-like server), so a newcomer
 * sees routing, the WebSocket relay and streaming uploads with nothing else
 * installed. Flags like --port, --host and --log work as for `rxroute`.
 */
export async function demoCommand(args: ParsedArgs, runtime: Runtime): Promise<number | 'serving'> {
  const samples = await startSampleServers(runtime);
  const origin = new Map(args.flags.origin);
  const layer: Layer = {
    ...args.flags.layer,
    frontend: samples.frontend.url,
    backend: samples.backend.url,
    proxy: { ...(args.flags.layer.proxy as Layer | undefined), enabled: true, server: samples.django.url },
    profile: 'split_dev',
    dev_proxy: true,
    serve_from_build: false,
    compile_dev: false,
  };
  for (const key of ['frontend', 'backend', 'proxy.server', 'profile']) origin.set(key, 'from rxroute demo');
  // The demo's routes are its own: a project's rxroute.json is not read
  // unless --config names one.
  const demoRuntime: Runtime = {
    ...runtime,
    readTextFile: (path) => (args.configPath === undefined && path === 'rxroute.json' ? undefined : runtime.readTextFile(path)),
  };
  const demoArgs: ParsedArgs = { ...args, command: 'run', flags: { layer, origin } };
  const pretty = loadCliConfig(demoArgs, demoRuntime).log === 'pretty';
  const code = await serveCommand(demoArgs, demoRuntime);
  if (code === 'serving' && pretty) {
    console.log(
      '  This is a demo: the upstreams above are built-in samples standing in for Vite,\n' +
        '  the Reflex backend and Django. Open the page to try the WebSocket echo, an upload,\n' +
        '  /admin and the status page at /__rxroute/. Ctrl+C stops everything.\n',
    );
  }
  return code;
}
