import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

// What the soak reads about rxroute from /proc once in a while: open file
// descriptors, and how many of its TCP connections go to the backend.

export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The socket inodes `pid` holds open. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m) inodes.add(m[1]!);
    } catch {
      // closed while listing
    }
  }
  return inodes;
}

/** `pid`'s established TCP connections whose remote port is `port` (proc(5): /proc/net/tcp, state 01). */
export function connectionsTo(pid: number, port: number): number {
  const mine = socketInodes(pid);
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const table of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const remote = fields[2]!;
      if (fields[3] === '01' && remote.endsWith(`:${hexPort}`) && mine.has(fields[9]!)) count++;
    }
  }
  return count;
}
