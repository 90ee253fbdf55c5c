import type { Runtime } from '../runtime.ts';
import { nodeHttpClient } from './node-http-client.ts';
import { bindFailure, displayUrl, readTextFile } from './shared.ts';

// Deno: Deno.serve for the server, node:http for upstreams (Deno's fetch
// replaces Host, chunks streamed uploads and decompresses responses).

interface DenoServer {
  addr: { port: number };
  shutdown(): Promise<void>;
}
interface DenoNamespace {
  args: string[];
  env: { toObject(): Record<string, string> };
  cwd(): string;
  stdout: { isTerminal(): boolean };
  serve(
    options: { hostname: string; port: number; onListen?: () => void },
    handler: (req: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): DenoServer;
  addSignalListener(signal: string, handler: () => void): void;
  exit(code: number): never;
}
declare const Deno: DenoNamespace;

export function createRuntime(): Runtime {
  return {
    name: 'deno',
    args: Deno.args,
    env: Deno.env.toObject(),
    cwd: () => Deno.cwd(),
    readTextFile,
    isTTY: Deno.stdout.isTerminal(),
    upstream: nodeHttpClient(),
    async serve({ fetch, hostname, port }) {
      let server: DenoServer;
      try {
        server = Deno.serve({ hostname, port, onListen: () => {} }, (req, info) =>
          fetch(req, { remoteAddress: info.remoteAddr.hostname }),
        );
      } catch (error) {
        throw bindFailure(error, hostname, port);
      }
      return {
        url: displayUrl(hostname, server.addr.port),
        port: server.addr.port,
        close: () => server.shutdown(),
      };
    },
    onSignal(signal, handler) {
      Deno.addSignalListener(signal, handler);
    },
    exit: (code) => Deno.exit(code),
  };
}
