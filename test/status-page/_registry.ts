import type { OutputLine, ProcessEvent, ProcessInfo, ProcessRegistry } from '../../src/dev/process-types.ts';

/**
 * A ProcessRegistry driven by hand: what the supervisor publishes, without
 * processes. `run`, `exit` and `print` change the list and notify
 * subscribers exactly as a supervisor does.
 */
export class ManualRegistry implements ProcessRegistry {
  private readonly infos = new Map<string, ProcessInfo>();
  private readonly listeners = new Set<(event: ProcessEvent) => void>();

  add(name: string, command: string): void {
    this.infos.set(name, { name, command, pid: null, state: 'starting', startedAt: null, restarts: 0, exitCode: null, exitSignal: null, lines: [] });
    this.changed(name);
  }

  run(name: string, pid: number, startedAt = new Date().toISOString()): void {
    const info = this.get(name);
    if (info.startedAt !== null) info.restarts++;
    Object.assign(info, { pid, state: 'running', startedAt });
    this.changed(name);
  }

  exit(name: string, exitCode: number | null, exitSignal: string | null = null): void {
    Object.assign(this.get(name), { state: 'backoff', pid: null, exitCode, exitSignal });
    this.changed(name);
  }

  print(name: string, text: string, stream: OutputLine['stream'] = 'stdout'): void {
    const info = this.get(name);
    const line: OutputLine = { stream, text, time: new Date().toISOString(), seq: (info.lines.at(-1)?.seq ?? 0) + 1 };
    info.lines = [...info.lines, line].slice(-50);
    for (const listener of this.listeners) listener({ kind: 'output', name, ...line });
  }

  list(): ProcessInfo[] {
    return [...this.infos.values()].map((info) => ({ ...info, lines: [...info.lines] }));
  }

  subscribe(listener: (event: ProcessEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private get(name: string): ProcessInfo {
    const info = this.infos.get(name);
    if (!info) throw new Error(`no process ${name}`);
    return info;
  }

  private changed(name: string): void {
    const { lines: _, ...process } = this.get(name);
    for (const listener of this.listeners) listener({ kind: 'state', process });
  }
}
