import { readFileSync } from 'node:fs';
import { RuntimeFailure } from '../errors.ts';

// Small pieces every adapter needs the same way (all three runtimes
// implement node:fs), lifted here instead of copied three times.

export function readTextFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The URL a person would open for a bound address. */
export function displayUrl(hostname: string, port: number, tls = false): string {
  const host = hostname === '0.0.0.0' || hostname === '::' ? 'localhost' : hostname;
  return `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * HTTP/2 has no Host header: the authority travels as `:authority`, and a
 * proxy speaking HTTP/1.1 onward must make a Host from it (RFC 9113 §8.3.1).
 * Bun does that itself; Deno and Node are given this, so the core (Host
 * guard, forwarded Host) sees every request the same way. Headers that
 * cannot change (Deno's) get a copy of the request; body and signal carry over.
 */
export function withHostFromAuthority(req: Request, authority: string | undefined, mutable: boolean): Request {
  if (!authority || req.headers.has('host')) return req;
  if (mutable) {
    req.headers.set('host', authority);
    return req;
  }
  const headers = new Headers(req.headers);
  headers.set('host', authority);
  return new Request(req, { headers });
}

/** A bind failure as the one-line error the CLI prints (exit 1). */
export function bindFailure(error: unknown, hostname: string, port: number): unknown {
  const text = `${(error as { code?: string }).code ?? ''} ${(error as Error)?.name ?? ''} ${(error as Error)?.message ?? ''}`;
  if (/EADDRINUSE|AddrInUse|address already in use|in use/i.test(text)) {
    return new RuntimeFailure(
      `port ${port} on ${hostname} is already in use`,
      'EADDRINUSE',
      `stop the process using it, or pick another port: rxroute --port ${port === 3000 ? 3100 : port + 1} (or RXROUTE_PORT)`,
      { cause: error },
    );
  }
  if (/EACCES|PermissionDenied|permission/i.test(text)) {
    return new RuntimeFailure(
      `not allowed to listen on ${hostname}:${port}`,
      'EACCES',
      'ports below 1024 need privileges; use --port 3000 or another port above 1023',
      { cause: error },
    );
  }
  if (/EADDRNOTAVAIL|AddrNotAvailable|ENOTFOUND|EAI_AGAIN|not available|resolve/i.test(text)) {
    return new RuntimeFailure(
      `cannot listen on host ${hostname}: no such local address`,
      'EADDRNOTAVAIL',
      'use --host 127.0.0.1 (the default), localhost, or an address of this machine',
      { cause: error },
    );
  }
  return error;
}
