import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The Vite dev app the page-load benchmark opens: the shape of a Reflex page
// in development. 12 pages fan out to 100 modules of ~4 KiB each (1,200
// modules, plus 12 page modules and the entry), and one 1 MiB dependency
// that Vite pre-bundles, standing in for React and friends.

export const PAGES = 12;
export const MODULES_PER_PAGE = 100;
const MODULE_BYTES = 4 * 1024;
const DEPENDENCY_BYTES = 1024 * 1024;

/** Every module the page evaluates: leaves, page modules, the dependency and the entry. */
export const MODULE_COUNT = PAGES * MODULES_PER_PAGE + PAGES + 2;

/** Writes the app into `dir`; the entry sets `window.__evaluated` (ms since navigation) once every module ran. */
export function writePageLoadApp(dir: string): void {
  const put = (path: string, text: string) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  put('package.json', JSON.stringify({ name: 'rxroute-page-load', private: true, type: 'module' }));
  put(
    'index.html',
    '<!doctype html><html><head><meta charset="utf-8"><title>page load</title></head><body><div id="root"></div><script type="module" src="/src/main.js"></script></body></html>\n',
  );
  const pageImports: string[] = [];
  for (let p = 0; p < PAGES; p++) {
    const leaves: string[] = [];
    for (let m = 0; m < MODULES_PER_PAGE; m++) {
      put(`src/pages/p${p}/m${m}.js`, leafModule(p, m));
      leaves.push(`import { value as m${m} } from './m${m}.js';`);
    }
    put(
      `src/pages/p${p}/index.js`,
      `${leaves.join('\n')}\nwindow.__modules = (window.__modules ?? 0) + 1;\nexport const page${p} = [${Array.from({ length: MODULES_PER_PAGE }, (_, m) => `m${m}`).join(', ')}].length;\n`,
    );
    pageImports.push(`import { page${p} } from './pages/p${p}/index.js';`);
  }
  put(
    'src/main.js',
    `import big from 'bigdep';\n${pageImports.join('\n')}\n` +
      `window.__modules = (window.__modules ?? 0) + 1;\n` +
      `document.getElementById('root').textContent = String(big.length + ${Array.from({ length: PAGES }, (_, p) => `page${p}`).join(' + ')});\n` +
      // Static imports are evaluated before this body runs: every module has.
      `window.__evaluated = performance.now();\n`,
  );
  put('node_modules/bigdep/package.json', JSON.stringify({ name: 'bigdep', version: '1.0.0', type: 'module', main: 'index.js' }));
  put('node_modules/bigdep/index.js', dependencyModule());
}

function leafModule(page: number, index: number): string {
  const head = `// page ${page}, module ${index}\nwindow.__modules = (window.__modules ?? 0) + 1;\n`;
  const lines: string[] = [];
  let size = head.length;
  for (let i = 0; size < MODULE_BYTES - 80; i++) {
    const line = `export const item${i} = { id: ${page * 1000 + index * 10 + i}, label: 'p${page}-m${index}-${i}', tags: ['a', 'b', 'c'] };\n`;
    lines.push(line);
    size += line.length;
  }
  return `${head}${lines.join('')}export const value = ${index};\n`;
}

function dependencyModule(): string {
  const parts: string[] = ['window.__modules = (window.__modules ?? 0) + 1;\nconst table = [\n'];
  let size = parts[0]!.length;
  for (let i = 0; size < DEPENDENCY_BYTES - 100; i++) {
    const line = `  { key: 'k${i}', weight: ${(i * 7919) % 1000}, name: 'dependency entry number ${i}' },\n`;
    parts.push(line);
    size += line.length;
  }
  parts.push('];\nexport default table;\n');
  return parts.join('');
}
