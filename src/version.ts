import pkg from '../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;

// scripts/build.ts inlines the short commit with `bun build --define`; run
// from source (deno run, vitest) nothing defines it.
declare const RXROUTE_COMMIT: string | undefined;

export const COMMIT: string = typeof RXROUTE_COMMIT === 'string' && RXROUTE_COMMIT !== '' ? RXROUTE_COMMIT : 'unknown';

/** `rxroute 0.2.0 (3f2a1c9, bun 1.4.5)`: what `--version` prints and the banner starts with. */
export function versionLine(runtime: { name: string; version: string }): string {
  return `rxroute ${VERSION} (${COMMIT}, ${runtime.name} ${runtime.version})`;
}
