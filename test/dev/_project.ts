import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Throwaway project directories for `rxroute dev`, shaped like the ones users
// run it in: rxconfig.py, rxroute.json, a .venv, manage.py.

/** Node itself (the tests run under it), by absolute path: a child's PATH may be cut down. */
export const NODE = process.execPath;
/** The small real child: serves the upstreams rxroute proxies to (fixtures/upstream.mjs). */
export const UPSTREAM = fileURLToPath(new URL('./fixtures/upstream.mjs', import.meta.url));
/** The `reflex`-shaped launcher that starts the e2e suite's Vite and backend. */
export const REFLEX_FIXTURE_BIN = fileURLToPath(new URL('./fixtures/bin/', import.meta.url));

export interface Project {
  /** Real path (what a child's process.cwd() reports). */
  dir: string;
  write(file: string, text: string): string;
  /** An executable `file` that runs `script` with /bin/sh. */
  executable(file: string, script: string): string;
  /** A fake `reflex` in `dir` (relative to the project) that runs upstream.mjs with reflex's arguments. */
  fakeReflex(binDir: string): string;
  remove(): void;
}

export function makeProject(files: Record<string, string> = {}): Project {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'rxroute-dev-')));
  const write = (file: string, text: string) => {
    const path = join(dir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return path;
  };
  const executable = (file: string, script: string) => {
    const path = write(file, `#!/bin/sh\n${script}\n`);
    chmodSync(path, 0o755);
    return path;
  };
  for (const [file, text] of Object.entries(files)) write(file, text);
  return {
    dir,
    write,
    executable,
    fakeReflex: (binDir) => executable(join(binDir, 'reflex'), `exec ${NODE} ${UPSTREAM} "$@"`),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A `.venv` whose python is `python` (Debian's by default), as `python -m venv` leaves it. */
export function addVenv(project: Project, python = '/usr/bin/python3'): string {
  const bin = join(project.dir, '.venv', 'bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(python, join(bin, 'python'));
  symlinkSync('python', join(bin, 'python3'));
  return bin;
}

/** rxconfig.py as `reflex init` writes it, plus the keyword arguments given (Python source). */
export function rxconfig(...keywords: string[]): string {
  const args = ['app_name="myapp"', ...keywords].map((arg) => `    ${arg},\n`).join('');
  return `import reflex as rx\n\nconfig = rx.Config(\n${args})\n`;
}

/** rxconfig.py with reflex-django's plugin in split_dev, Django on `djangoPort`. */
export function splitDevRxconfig(djangoPort: number, ...keywords: string[]): string {
  return (
    'import reflex as rx\nfrom reflex_django.plugin import ReflexDjangoPlugin\n\n' +
    rxconfig(...keywords, `plugins=[ReflexDjangoPlugin(config={"profile": "split_dev", "proxy": {"server": "http://127.0.0.1:${djangoPort}"}})]`).replace('import reflex as rx\n\n', '')
  );
}

/** A PATH with `dirs` first, then the machine's. */
export function pathWith(...dirs: string[]): string {
  return [...dirs, process.env.PATH ?? '/usr/bin:/bin'].join(':');
}
