// The oldest Node the npm package runs on: undici 7, the Node build's
// upstream client, needs 20.18.1 (package.json `engines` says the same).
// Checked before the Node adapter is imported, since importing undici on an
// older Node can fail with an error that names neither Node nor the fix.

export const OLDEST_NODE = '20.18.1';

/** Whether `version` (`20.18.1`, `v22.3.0`) is OLDEST_NODE or later. */
export function isSupportedNode(version: string): boolean {
  const have = version.replace(/^v/, '').split('.').map(Number);
  const need = OLDEST_NODE.split('.').map(Number);
  for (let i = 0; i < need.length; i++) {
    const a = have[i] ?? 0;
    if (a !== need[i]) return a > need[i]!;
  }
  return true;
}

/** On a Node older than OLDEST_NODE: says so in DESIGN §8's two lines and exits 1. */
export function exitOnUnsupportedNode(): void {
  const version = process.versions.node;
  if (isSupportedNode(version)) return;
  console.error(`rxroute: error: Node ${version} is too old; rxroute needs Node ${OLDEST_NODE} or later`);
  console.error('hint: upgrade Node, or run the standalone binary (no Node needed): see the README');
  process.exit(1);
}
