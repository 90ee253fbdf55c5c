import { contentTypeFor, extensionOf } from './content-type.ts';

// Serves an exported frontend bundle from disk (DESIGN §4): `path`,
// `path.html`, `path/index.html`, then the SPA fallback. Nothing outside the
// build directory is reachable: the URL path is checked segment by segment
// here, and the adapter's StaticFiles refuses symlinks that resolve outside.

export interface FileInfo {
  /** Resolved path to open. */
  path: string;
  size: number;
  mtimeMs: number;
  isFile: boolean;
}

/** File access the core needs; src/adapters/static-files.ts implements it. */
export interface StaticFiles {
  /** `relative` under `root`, symlinks followed; undefined when missing or outside `root`. */
  stat(root: string, relative: string): Promise<FileInfo | undefined>;
  open(path: string): ReadableStream<Uint8Array>;
}

export interface BuildOptions {
  root: string;
  files: StaticFiles;
  /** compile_dev: every response `Cache-Control: no-store`. */
  noStore: boolean;
}

export type BuildServer = (req: Request, pathname: string) => Promise<Response>;

export function createBuildServer({ root, files, noStore }: BuildOptions): BuildServer {
  const cacheControl = noStore ? 'no-store' : 'no-cache';

  const send = (req: Request, file: FileInfo, status = 200): Response => {
    const etag = `W/"${file.size.toString(16)}-${Math.floor(file.mtimeMs).toString(16)}"`;
    const lastModified = new Date(file.mtimeMs).toUTCString();
    const headers = new Headers({
      'content-type': contentTypeFor(file.path),
      'cache-control': cacheControl,
      'x-content-type-options': 'nosniff',
    });
    if (!noStore) {
      headers.set('etag', etag);
      headers.set('last-modified', lastModified);
      if (status === 200 && isFresh(req.headers, etag, file.mtimeMs)) return new Response(null, { status: 304, headers });
    }
    headers.set('content-length', String(file.size));
    return new Response(req.method === 'HEAD' ? null : files.open(file.path), { status, headers });
  };

  const find = async (relative: string): Promise<FileInfo | undefined> => {
    const info = await files.stat(root, relative);
    return info?.isFile ? info : undefined;
  };

  return async (req, pathname) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return new Response('method not allowed on the static build\n', { status: 405, headers: { allow: 'GET, HEAD' } });
    }
    const segments = safeSegments(pathname);
    if (segments === 'bad') return plain(400, 'bad path: it escapes the build directory or is not valid UTF-8\n');
    if (segments === 'hidden') return plain(404, 'not found\n');
    const relative = segments.join('/');
    const candidates = pathname.endsWith('/')
      ? [`${relative}${relative ? '/' : ''}index.html`]
      : [relative, `${relative}.html`, `${relative}/index.html`];
    for (const candidate of candidates) {
      const file = await find(candidate);
      if (file) return send(req, file);
    }
    const last = segments[segments.length - 1] ?? '';
    if (extensionOf(last) !== undefined) {
      // A missing asset is a 404, never the SPA shell (which would be parsed as JS or CSS).
      const page = await find('404.html');
      return page ? send(req, page, 404) : plain(404, 'not found\n');
    }
    const shell = await find('index.html');
    if (shell) return send(req, shell);
    return new Response(missingBuildPage(root), { status: 404, headers: { 'content-type': 'text/html; charset=utf-8' } });
  };
}

/**
 * Decoded path segments, or a refusal: `bad` for anything that could step
 * outside the directory (encoded `..`, `/` or `\\`, NUL, invalid escapes),
 * `hidden` for dotfiles (`.env`, `.git/config`).
 */
export function safeSegments(pathname: string): string[] | 'bad' | 'hidden' {
  const out: string[] = [];
  for (const raw of pathname.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return 'bad';
    }
    if (segment === '.' || segment === '..' || /[/\\\0]/.test(segment)) return 'bad';
    if (segment.startsWith('.')) return 'hidden';
    out.push(segment);
  }
  return out;
}

function isFresh(headers: Headers, etag: string, mtimeMs: number): boolean {
  const match = headers.get('if-none-match');
  if (match !== null) return match.split(',').some((t) => t.trim() === etag || t.trim() === '*');
  const since = headers.get('if-modified-since');
  if (since === null) return false;
  const time = Date.parse(since);
  return !Number.isNaN(time) && Math.floor(mtimeMs / 1000) * 1000 <= time;
}

function plain(status: number, text: string): Response {
  return new Response(text, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

function missingBuildPage(root: string): string {
  const esc = root.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><meta charset="utf-8"><title>404 · rxroute</title>
<h1>Nothing to serve yet</h1>
<p>rxroute serves the frontend from <code>${esc}</code>, which has no <code>index.html</code>.</p>
<p>Export the frontend (<code>reflex export --frontend-only</code>) or point <code>build_dir</code> / <code>--static DIR</code> at the bundle;
or set <code>dev_proxy=true</code> (<code>RX_DEV_PROXY=1</code>) to proxy the Vite dev server instead, or <code>frontend_present=true</code> if a frontend server is already running.</p>`;
}
