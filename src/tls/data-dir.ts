// Where rxroute keeps its local CA and leaf: the user data directory of each
// platform (XDG on Linux), never the project, so one CA serves every project.

/** The directory for rxroute's certificates; RXROUTE_DATA_DIR wins (tests, shared machines). */
export function dataDir(env: Record<string, string | undefined>, platform: string, home: string): string {
  if (env.RXROUTE_DATA_DIR) return env.RXROUTE_DATA_DIR;
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'rxroute');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'rxroute');
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'rxroute');
}

/** Joins with the separator the first part already uses (a Windows path keeps backslashes). */
export function join(first: string, ...rest: string[]): string {
  const sep = first.includes('\\') && !first.includes('/') ? '\\' : '/';
  return [first.replace(/[\\/]+$/, ''), ...rest].join(sep);
}
