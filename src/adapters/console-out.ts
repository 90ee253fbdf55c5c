import type { ConsoleOut } from '../runtime.ts';

// Console output that never blocks the event loop. Bun's and Deno's
// console.log write a full pipe synchronously: a paused terminal or a slow
// `| less` would stop rxroute answering requests. Lines queue here instead;
// children are paused above HIGH_WATER (adapters/child-process.ts), so their
// lines are never lost, and rxroute's own lines are dropped past HARD_LIMIT
// (with a count once the reader is back) so memory stays bounded.

export const HIGH_WATER = 256 * 1024;
const LOW_WATER = 64 * 1024;
const HARD_LIMIT = 8 * 1024 * 1024;

type Sink = (bytes: Uint8Array) => Promise<void> | void;

/** A ConsoleOut over an async sink that resolves once the bytes are written. */
export function queuedOut(sink: Sink): ConsoleOut {
  const encoder = new TextEncoder();
  let queue: Uint8Array[] = [];
  let queued = 0;
  let writing = false;
  let dropped = 0;
  let broken = false;
  const drained: (() => void)[] = [];

  const pump = async () => {
    writing = true;
    while (queue.length > 0 && !broken) {
      const batch = queue;
      queue = [];
      const bytes = concat(batch);
      try {
        await sink(bytes);
      } catch {
        // The reader is gone (EPIPE): nothing more can be shown.
        broken = true;
      }
      queued -= bytes.byteLength;
      if (queued <= LOW_WATER) {
        if (dropped > 0) {
          const note = encoder.encode(`rxroute: ${dropped} log line${dropped === 1 ? '' : 's'} dropped while stdout was not read\n`);
          dropped = 0;
          queue.push(note);
          queued += note.byteLength;
        }
        for (const listener of drained.splice(0)) listener();
      }
    }
    if (broken) {
      queue = [];
      queued = 0;
      for (const listener of drained.splice(0)) listener();
    }
    writing = false;
  };

  return {
    write(line) {
      if (broken) return;
      if (queued > HARD_LIMIT) {
        dropped++;
        return;
      }
      const bytes = encoder.encode(`${line}\n`);
      queue.push(bytes);
      queued += bytes.byteLength;
      if (!writing) void pump();
    },
    get queued() {
      return queued;
    },
    whenDrained(listener) {
      if (queued <= LOW_WATER) listener();
      else drained.push(listener);
    },
  };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Node and Bun: process.stdout.write queues in the stream when the pipe is full; resolve on its callback. */
export function nodeStreamOut(): ConsoleOut {
  process.stdout.on('error', () => {});
  return queuedOut(
    (bytes) =>
      new Promise<void>((resolve, reject) => {
        process.stdout.write(bytes, (error) => (error ? reject(error) : resolve()));
      }),
  );
}
