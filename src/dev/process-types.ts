// What `rxroute dev` supervises, as the rest of the core sees it: the
// supervisor publishes these; the status page, /__rxroute/health and the
// log read them. Pure types, no runtime.

/** One child the supervisor runs: a detected Reflex/Django process, a dev.processes entry, or `-- CMD`. */
export interface ProcessSpec {
  name: string;
  /** argv; a shell-string command is ['sh', '-c', text] (cmd.exe /d /s /c on Windows). */
  argv: string[];
  /** The command as a person would type it, for the banner and the status page. */
  display: string;
  cwd: string;
  /** Added to the supervisor's environment for this child. */
  env: Record<string, string>;
  /** A TCP port on 127.0.0.1 that accepts connections once the child is ready. */
  readyPort?: number;
}

export type ProcessState = 'starting' | 'running' | 'exited' | 'backoff' | 'stopping' | 'stopped';

export interface OutputLine {
  stream: 'stdout' | 'stderr';
  text: string;
  /** ISO time the line arrived (a chunk of a flood shares one). */
  time: string;
  /** Counts up per process across runs: tells the page which lines a /health snapshot already has. */
  seq: number;
}

export interface ProcessInfo {
  name: string;
  command: string;
  pid: number | null;
  state: ProcessState;
  /** ISO time the current (or last) run started; null before the first start. */
  startedAt: string | null;
  restarts: number;
  /** Exit code of the last run that ended (null: none ended yet, or a signal ended it). */
  exitCode: number | null;
  /** Signal that ended the last run, if one did. */
  exitSignal: string | null;
  /** The last 50 output lines, oldest first. */
  lines: OutputLine[];
}

export type ProcessEvent =
  | { kind: 'state'; process: Omit<ProcessInfo, 'lines'> }
  | ({ kind: 'output'; name: string } & OutputLine);

/** Read-only view of the supervised processes (the status page and health endpoint). */
export interface ProcessRegistry {
  list(): ProcessInfo[];
  subscribe(listener: (event: ProcessEvent) => void): () => void;
}
