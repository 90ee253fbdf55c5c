// What certificate handling and `rxroute trust` need from the machine. The
// adapters implement it once (src/adapters/host-files.ts); the code in this
// folder stays portable.

export interface HostFiles {
  /** `process.platform`: linux, darwin, win32, … */
  platform: string;
  /** Whether this process runs as root (then `rxroute trust` needs no sudo). */
  isRoot: boolean;
  /** The user's home directory. */
  home(): string;
  /** File contents, or undefined when the file does not exist (other errors throw). */
  readText(path: string): string | undefined;
  /** Writes the file (parent directories made), then sets its mode (POSIX only). */
  writeText(path: string, text: string, mode: number): void;
  /** The file's permission bits, or undefined when it does not exist (or on Windows). */
  mode(path: string): number | undefined;
  /** Entries of a directory; [] when it does not exist. */
  list(path: string): string[];
  /** Whether a program is on PATH. */
  hasCommand(name: string): boolean;
  /** Runs a command with the terminal attached; resolves with its exit code. */
  run(argv: string[]): Promise<number>;
}
