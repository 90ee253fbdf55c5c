import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// The backend as a real process the chaos loop can kill: started on a fixed
// port, so rxroute keeps one upstream URL across restarts; killed by its PID
// with SIGKILL or SIGTERM; started again.

const ENTRY = fileURLToPath(new URL('./backend.ts', import.meta.url));
const START_TIMEOUT_MS = 15_000;

export class BackendProcess {
  private child: ChildProcess | undefined;
  starts = 0;
  kills = { SIGKILL: 0, SIGTERM: 0 };

  constructor(
    readonly port: number,
    readonly arrivalsPath: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [ENTRY, String(this.port), this.arrivalsPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`backend did not listen within ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`backend exited before listening (${signal ?? code}): ${stderr}`));
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line === 'listening') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    this.starts++;
  }

  /** Sends `signal` to the backend's PID and waits for it to exit. */
  async kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(force);
    this.kills[signal]++;
    this.child = undefined;
  }
}
