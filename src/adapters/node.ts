import { serve as serveNode } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import { constants, createSecureServer, Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Runtime } from '../runtime.ts';
import { handleUpgrades } from './node-upgrade.ts';
import { processCapabilities } from './child-process.ts';
import { nodeStreamOut } from './console-out.ts';
import { tcpProbe } from './probe.ts';
import { undiciClient, takeUnreadBody } from './undici-client.ts';
import type { UpstreamBody } from './upstream-body.ts';
import { staticFiles } from './static-files.ts';
import { connectUpstreamSocket } from './ws-upstream.ts';
import { hostFiles } from './host-files.ts';
import { bindFailure, displayUrl, readTextFile, withHostFromAuthority } from './shared.ts';

// Node: @hono/node-server for the server, undici for upstreams. A proxied
// body goes from undici's dispatch handler straight into the ServerResponse;
// everything else is written by @hono/node-server.

export function createRuntime(): Runtime {
  const out = nodeStreamOut();
  return {
    name: 'node',
    version: process.versions.node,
    args: process.argv.slice(2),
    env: process.env,
    cwd: () => process.cwd(),
    readTextFile,
    isTTY: Boolean(process.stdout.isTTY),
    out,
    upstream: undiciClient(),
    connectSocket: connectUpstreamSocket,
    hostFiles,
    files: staticFiles(),
    probe: tcpProbe,
    ...processCapabilities(out),
    serve({ fetch, hostname, port, tls }) {
      return new Promise((resolve, reject) => {
        const server = serveNode(<Parameters<typeof serveNode>[0]>{
          hostname,
          port,
          // Node's 300 s requestTimeout would cut long uploads and long-polls.
          serverOptions: { requestTimeout: 0 },
          // TLS: node:http2 with HTTP/1.1 next to h2 (ALPN), so WebSocket
          // upgrades still arrive over HTTP/1.1. Extended CONNECT (RFC 8441)
          // stays off: sockets are relayed only as HTTP/1.1 upgrades.
          ...(tls && {
            createServer: createSecureServer,
            serverOptions: {
              cert: tls.cert,
              key: tls.key,
              allowHTTP1: true,
              ALPNProtocols: tls.http2 ? ['h2', 'http/1.1'] : ['http/1.1'],
              settings: { enableConnectProtocol: false },
            },
          }),
          fetch: async (req, env) => {
            const incoming = env.incoming as IncomingMessage | Http2ServerRequest;
            // node-server's request headers take a Host without a copy.
            const request = incoming instanceof Http2ServerRequest ? withHostFromAuthority(req, incoming.authority, true) : req;
            const res = await fetch(request, { remoteAddress: incoming.socket.remoteAddress });
            const upstream = takeUnreadBody(streamBody(res));
            if (!upstream) return res;
            try {
              sendUpstreamBody(res, upstream, env.outgoing as ServerResponse | Http2ServerResponse);
            } catch (error) {
              upstream.cancel(error);
              throw error;
            }
            return RESPONSE_ALREADY_SENT;
          },
        });
        // node:http2 serves HTTP/1.1 with its own 300 s request timeout.
        if (tls) Object.assign(server, { requestTimeout: 0 });
        const sessions = new Set<Http2Session>();
        server.on('session', (session: Http2Session) => {
          sessions.add(session);
          session.once('close', () => sessions.delete(session));
        });
        handleUpgrades(server as Server, fetch);
        server.once('error', (error) => reject(bindFailure(error, hostname, port)));
        server.once('listening', () => {
          const bound = (server.address() as AddressInfo).port;
          resolve({
            url: displayUrl(hostname, bound, Boolean(tls)),
            port: bound,
            http2: tls ? (tls.http2 ? { offered: true } : { offered: false, reason: 'not asked for' }) : undefined,
            close: () =>
              new Promise<void>((done) => {
                // Stop accepting and drop idle keep-alive sockets; in-flight
                // requests finish (the CLI caps the wait). An h2 session gets
                // GOAWAY and closes once its open streams are done.
                server.close(() => done());
                if ('closeIdleConnections' in server) server.closeIdleConnections();
                for (const session of sessions) session.close();
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

/**
 * The body of `res` if it is a stream. @hono/node-server's lightweight
 * Response keeps `[status, body, headers]` under a private symbol until a
 * full Response is needed; reading `.body` first would build one and move
 * node-server off its fast path for that response, so the body is looked up
 * there. Once the full Response exists, `.body` is its body. Should another
 * node-server keep things elsewhere, no response is taken over.
 */
function streamBody(res: Response): ReadableStream<Uint8Array> | undefined {
  cacheKey ??= Object.getOwnPropertySymbols(new Response(null)).find((s) => s.description === 'cache') ?? false;
  if (!cacheKey) return undefined;
  const cached = (res as unknown as Record<symbol, unknown>)[cacheKey];
  const body: unknown = cached === undefined ? res.body : Array.isArray(cached) ? cached[1] : undefined;
  return body instanceof ReadableStream ? body : undefined;
}
/** Looked up once node-server has installed its Response as the global one. */
let cacheKey: symbol | false | undefined;

/** node-server's answer for a body without a Content-Type; kept so every response looks the same. */
const DEFAULT_CONTENT_TYPE = 'text/plain; charset=UTF-8';

/**
 * Writes the response head and the upstream's body into the client's
 * response with backpressure. A body that has already arrived whole goes out
 * with the head in one write; otherwise the head is sent at once, so a quiet
 * stream (SSE, a long-poll) shows its headers before its first byte.
 */
function sendUpstreamBody(res: Response, from: UpstreamBody, client: ServerResponse | Http2ServerResponse): void {
  // Http2ServerResponse has ServerResponse's write/end/drain; only its
  // end-of-life goes through its stream.
  const h2 = 'stream' in client ? client.stream : undefined;
  const to = client as ServerResponse;
  if (h2 ? h2.destroyed : to.destroyed) {
    // The client left while the upstream was answering.
    from.cancel();
    return;
  }
  to.writeHead(res.status, outgoingHeaders(res.headers));
  if (from.complete) {
    to.end(from.whole());
    return;
  }
  // Over h2, writeHead already sent the HEADERS frame.
  if (from.buffered === 0 && !h2) to.flushHeaders();
  let over = false;
  const resume = () => from.resume();
  to.on('drain', resume);
  // The client left: stop the upstream exchange.
  to.on('close', () => {
    if (!over) from.cancel();
  });
  from.pipe({
    write: (chunk) => to.write(chunk),
    end() {
      over = true;
      to.off('drain', resume);
      to.end();
    },
    // An upstream that dies mid-body must not look like a complete response.
    // Over h2 a plain destroy() resets with NO_ERROR, which clients read as a
    // clean end: reset with INTERNAL_ERROR instead (RFC 9113 §8.1).
    fail() {
      over = true;
      if (h2) h2.close(constants.NGHTTP2_INTERNAL_ERROR);
      else to.destroy();
    },
  });
}

/** The head as node:http takes it: Set-Cookie as a list, the rest as single values. */
function outgoingHeaders(headers: Headers): OutgoingHttpHeaders {
  const record: OutgoingHttpHeaders = {};
  headers.forEach((value, name) => {
    if (name !== 'set-cookie') record[name] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) record['set-cookie'] = cookies;
  record['content-type'] ??= DEFAULT_CONTENT_TYPE;
  return record;
}
