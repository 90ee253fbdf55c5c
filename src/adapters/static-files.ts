import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { FileInfo, StaticFiles } from '../frontend/serve-build.ts';

// Build-directory access through node:fs, which Bun, Deno and Node all
// implement. The containment check runs on real paths, so a symlink inside
// the build directory that points outside it is refused.

export function staticFiles(): StaticFiles {
  const roots = new Map<string, Promise<string | undefined>>();
  const realRoot = (root: string) => {
    let found = roots.get(root);
    if (!found) {
      found = realpath(root).catch(() => undefined);
      roots.set(root, found);
    }
    return found;
  };
  return {
    async stat(root, relative): Promise<FileInfo | undefined> {
      const base = await realRoot(root);
      if (base === undefined) {
        roots.delete(root); // the directory may be created later (reflex export)
        return undefined;
      }
      const real = await realpath(resolve(base, relative)).catch(() => undefined);
      if (real === undefined || (real !== base && !real.startsWith(base + sep))) return undefined;
      const info = await stat(real).catch(() => undefined);
      if (!info) return undefined;
      return { path: real, size: info.size, mtimeMs: info.mtimeMs, isFile: info.isFile() };
    },
    open(path) {
      return Readable.toWeb(createReadStream(path)) as unknown as ReadableStream<Uint8Array>;
    },
  };
}
