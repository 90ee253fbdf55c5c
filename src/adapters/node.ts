import { serve as serveNode } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Runtime } from '../runtime.ts';
import { nodeHttpClient } from './node-http-client.ts';
import { handleUpgrades } from './node-upgrade.ts';
import { tcpProbe } from './probe.ts';
import { staticFiles } from './static-files.ts';
import { connectUpstreamSocket } from './ws-upstream.ts';
import { bindFailure, displayUrl, readTextFile } from './shared.ts';

// Node: @hono/node-server for the server, node:http for upstreams.

export function createRuntime(): Runtime {
  return {
    name: 'node',
    args: process.argv.slice(2),
    env: process.env,
    cwd: () => process.cwd(),
    readTextFile,
    isTTY: Boolean(process.stdout.isTTY),
    upstream: nodeHttpClient(),
    connectSocket: connectUpstreamSocket,
    files: staticFiles(),
    probe: tcpProbe,
    serve({ fetch, hostname, port }) {
      return new Promise((resolve, reject) => {
        const server = serveNode({
          hostname,
          port,
          // Node's 300 s requestTimeout would cut long uploads and long-polls.
          serverOptions: { requestTimeout: 0 },
          fetch: (req, env) =>
            fetch(req, { remoteAddress: 'incoming' in env ? env.incoming.socket.remoteAddress : undefined }),
        });
        handleUpgrades(server as Server, fetch);
        server.once('error', (error) => reject(bindFailure(error, hostname, port)));
        server.once('listening', () => {
          const bound = (server.address() as AddressInfo).port;
          resolve({
            url: displayUrl(hostname, bound),
            port: bound,
            close: () =>
              new Promise<void>((done) => {
                // Stop accepting and drop idle keep-alive sockets; in-flight
                // requests finish (the CLI caps the wait).
                server.close(() => done());
                if ('closeIdleConnections' in server) server.closeIdleConnections();
              }),
          });
        });
      });
    },
    onSignal(signal, handler) {
      process.on(signal, handler);
    },
    exit: (code) => process.exit(code),
  };
}
