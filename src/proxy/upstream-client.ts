import { UpstreamError } from '../errors.ts';

// What the core needs from a runtime to talk to an upstream. Adapters supply
// the best client their runtime has (Bun: fetch with its proxy-friendly
// options; Node and Deno: node:http, because their fetch decompresses bodies,
// drops Content-Length on streamed uploads or rewrites Host).

export interface UpstreamRequest {
  /** `http://host:port` of the upstream. */
  origin: string;
  /** Request target: path plus the client's raw query, never re-encoded. */
  path: string;
  method: string;
  /** Final headers: hop-by-hop removed, Host and X-Forwarded-* set. */
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  /** Aborted when the client goes away; the upstream request must end too. */
  signal: AbortSignal;
}

/**
 * Sends one request upstream and resolves with the response head and a
 * streaming body, exactly as sent: no redirects followed, no decompression.
 * Rejects with UpstreamError when the connection fails.
 */
export type UpstreamClient = (req: UpstreamRequest) => Promise<Response>;

/**
 * A client on the global fetch. Faithful on Bun (the extra init keys are
 * Bun's: keep compressed bytes, no 300 s first-byte timeout); elsewhere it
 * works for embedding but may decompress bodies or chunk uploads.
 */
export function fetchClient(fetchImpl: typeof fetch = fetch): UpstreamClient {
  return async ({ origin, path, method, headers, body, signal }) => {
    const url = origin + path;
    try {
      return await fetchImpl(url, {
        method,
        headers,
        body,
        signal,
        redirect: 'manual',
        duplex: 'half',
        decompress: false,
        timeout: false,
      } as RequestInit);
    } catch (error) {
      throw toUpstreamError(error, url);
    }
  };
}

/** Maps a runtime's connection error to the core's three cases; aborts pass through. */
export function toUpstreamError(error: unknown, url: string): unknown {
  if (error instanceof UpstreamError) return error;
  if (error instanceof Error && error.name === 'AbortError') return error;
  const code = errorCode(error);
  const kind = /refused/i.test(code) ? 'refused' : /time/i.test(code) ? 'timeout' : 'reset';
  const verb = kind === 'refused' ? 'refused the connection' : kind === 'timeout' ? 'timed out' : 'closed the connection';
  return new UpstreamError(kind, `${url} ${verb} (${code || 'unknown error'})`, { cause: error });
}

function errorCode(error: unknown): string {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code) return code;
  }
  return error instanceof Error ? error.message : '';
}
