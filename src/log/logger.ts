// Console output: one line per request (DESIGN §8), pretty or JSON. Module
// and asset requests to the frontend (hundreds per page load under Vite and
// Reflex) are folded into one summary line in pretty mode unless --verbose;
// JSON mode writes every request.

export interface RequestRecord {
  method: string;
  path: string;
  owner: string;
  status: number;
  ms: number;
  /** Body bytes sent to the client; null when unknown (client left early). */
  bytes: number | null;
  /** The request's Sec-Fetch-Dest header, when the browser sent one. */
  dest?: string | null;
}

export interface Logger {
  request(record: RequestRecord): void;
  info(event: string, message: string, fields?: Record<string, unknown>): void;
  warn(event: string, message: string, fields?: Record<string, unknown>): void;
  /** For the JSON log only; pretty mode prints what `info` printed. */
  readonly format: 'pretty' | 'json';
}

export interface LoggerOptions {
  format: 'pretty' | 'json';
  verbose: boolean;
  quiet: boolean;
  color: boolean;
  write?: (line: string) => void;
  writeError?: (line: string) => void;
}

// What the browser says it fetches (Fetch Metadata, Sec-Fetch-Dest) decides
// first: it tells a module or stylesheet from a page or an API call whatever
// the path is. Other values (worker, video, …) and clients that send none
// (curl, older browsers) fall back to the path.
const FOLD_DEST = new Set(['script', 'style', 'image', 'font', 'manifest']);
const LIST_DEST = new Set(['document', 'empty', 'iframe', 'frame']);
// Vite's own module paths, whatever their shape.
const VITE_MODULE = /^\/(?:@vite|@fs|@id|node_modules|src)\//;
// Reflex's generated modules and styles: files (with an extension) under its
// folders, so an app's page at /app/settings or /components stays listed.
const REFLEX_MODULE = /^\/(?:(?:app|utils|components|styles)\/(?:[^/]+\/)*[^/]+\.[A-Za-z0-9]+|env\.json|reflex\.json)$/;
const FOLD_OWNERS = new Set(['frontend', 'build']);
const FOLD_IDLE_MS = 1000;
const OWNER_COLOR: Record<string, number> = { frontend: 35, backend: 36, django: 32, custom: 33, build: 34, rxroute: 90 };

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => console.log(line));
  const writeError = options.writeError ?? ((line: string) => console.error(line));
  const paint = (code: number, text: string) => (options.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const folded = new Map<number, number>();
  let foldTimer: ReturnType<typeof setTimeout> | undefined;

  const flushFolded = () => {
    foldTimer = undefined;
    if (folded.size === 0) return;
    let total = 0;
    const parts: string[] = [];
    for (const [status, count] of folded) {
      total += count;
      parts.push(`${count}×${status}`);
    }
    folded.clear();
    write(`${clock()} ${paint(90, `… ${total} module/asset request${total === 1 ? '' : 's'} (${parts.join(', ')}); --verbose shows each`)}`);
  };

  const json = (level: string, event: string, fields: Record<string, unknown>) =>
    JSON.stringify({ time: new Date().toISOString(), level, event, ...fields });

  return {
    format: options.format,
    request(r) {
      if (options.quiet) return;
      if (options.format === 'json') {
        const { dest, ...fields } = r;
        write(json('info', 'request', dest ? { ...fields, dest } : fields));
        return;
      }
      if (!options.verbose && isFoldable(r)) {
        folded.set(r.status, (folded.get(r.status) ?? 0) + 1);
        if (foldTimer) clearTimeout(foldTimer);
        foldTimer = setTimeout(flushFolded, FOLD_IDLE_MS);
        return;
      }
      const status = paint(r.status >= 500 ? 31 : r.status >= 400 ? 33 : 32, String(r.status));
      const owner = paint(OWNER_COLOR[r.owner] ?? 0, r.owner.padEnd(8));
      write(`${clock()} ${r.method.padEnd(6)} ${status} ${owner} ${r.path} ${paint(90, `${formatMs(r.ms)} ${formatBytes(r.bytes)}`)}`);
    },
    info(event, message, fields = {}) {
      if (options.format === 'json') write(json('info', event, { message, ...fields }));
      else write(message);
    },
    warn(event, message, fields = {}) {
      if (options.format === 'json') writeError(json('warn', event, { message, ...fields }));
      else writeError(`${paint(33, 'warning:')} ${message}`);
    },
  };
}

/** A module or asset the frontend served fine; pages, API calls and errors are always listed. */
function isFoldable(r: RequestRecord): boolean {
  if (r.status >= 400 || !FOLD_OWNERS.has(r.owner)) return false;
  if (r.dest && FOLD_DEST.has(r.dest)) return true;
  if (r.dest && LIST_DEST.has(r.dest)) return false;
  return VITE_MODULE.test(r.path) || REFLEX_MODULE.test(r.path);
}

function clock(): string {
  return new Date().toTimeString().slice(0, 8);
}

function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)}ms` : `${Math.round(ms)}ms`;
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '-';
  if (bytes < 1024) return `${bytes}B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)}kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)}MB`;
}
