import { fetchClient } from '../proxy/upstream-client.ts';
import type { Runtime } from '../runtime.ts';
import { bindFailure, displayUrl, readTextFile } from './shared.ts';

// Bun: Bun.serve for the server, Bun's fetch for upstreams (it keeps Host and
// Content-Length, and with `decompress: false` passes compressed bytes).

export function createRuntime(): Runtime {
  return {
    name: 'bun',
    args: process.argv.slice(2),
    env: process.env,
    cwd: () => process.cwd(),
    readTextFile,
    isTTY: Boolean(process.stdout.isTTY),
    upstream: fetchClient(),
    async serve({ fetch, hostname, port }) {
      let server: ReturnType<typeof Bun.serve>;
      try {
        server = Bun.serve({
          hostname,
          port,
          // Bun caps request bodies at 128 MiB by default; uploads are unlimited.
          maxRequestBodySize: Number.MAX_SAFE_INTEGER,
          fetch(req, srv) {
            // The 10 s idle timeout would cut quiet SSE streams and long-polls.
            srv.timeout(req, 0);
            return fetch(req, { remoteAddress: srv.requestIP(req)?.address });
          },
        });
      } catch (error) {
        throw bindFailure(error, hostname, port);
      }
      const bound = server.port ?? port;
      return {
        url: displayUrl(hostname, bound),
        port: bound,
        close: async () => {
          await server.stop(true);
        },
      };
    },
    onSignal(signal, handler) {
      process.on(signal, handler);
    },
    exit: (code) => process.exit(code),
  };
}
