import { readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parentPort, Worker } from 'node:worker_threads';

// Upstreams run on their own thread: sharing the client's event loop capped
// `direct` below what a router on the second core reached.

/** What a worker posts once its server listens. */
interface Ready {
  url: string;
  /** The worker's OS thread id, so the bench can read that thread's CPU time. */
  tid: number;
}

export interface WorkerServer extends Ready {
  stop(): Promise<unknown>;
}

/** Starts `entry` (a module that calls `announce`) as a worker thread and waits for its URL. */
export async function startWorkerServer(entry: URL): Promise<WorkerServer> {
  const worker = new Worker(fileURLToPath(entry));
  const ready = await new Promise<Ready>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { ...ready, stop: () => worker.terminate() };
}

/** Called inside the worker with its server's URL. */
export function announce(url: string): void {
  const ready: Ready = { url, tid: threadId() };
  parentPort!.postMessage(ready);
}

/** The calling thread's OS id (Linux: /proc/thread-self → `<pid>/task/<tid>`). */
export function threadId(): number {
  return Number(readlinkSync('/proc/thread-self').split('/').pop());
}
