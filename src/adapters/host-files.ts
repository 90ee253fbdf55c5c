import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { which } from './child-process.ts';
import type { HostFiles } from '../tls/host-files.ts';

// HostFiles on node:fs, node:os and node:child_process, which Bun, Deno and
// Node all implement: certificates in the user data directory, and the
// commands `rxroute trust` runs.

export const hostFiles: HostFiles = {
  platform: process.platform,
  isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
  home: () => homedir(),
  readText(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return undefined;
      throw error;
    }
  },
  writeText(path, text, mode) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, text, { mode });
    // The mode option applies only to a new file (and through the umask).
    if (process.platform !== 'win32') chmodSync(path, mode);
  },
  mode(path) {
    try {
      return process.platform === 'win32' ? undefined : statSync(path).mode & 0o777;
    } catch {
      return undefined;
    }
  },
  list(path) {
    try {
      return readdirSync(path);
    } catch {
      return [];
    }
  },
  hasCommand: (name) => which(name, process.env.PATH) !== undefined,
  run(argv) {
    return new Promise((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit' });
      child.once('error', () => resolve(127));
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  },
};
