import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

// What the bench reads from /proc about the processes and threads it runs:
// a proxy's memory, and who spent the CPU during a measurement. A proxy is
// its whole process tree (nginx: master and worker), summed.

const RSS_SAMPLE_MS = 50;

export function readRss(pid: number): number {
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb) * 1024;
}

/** `pid` and its descendants, from each thread's `children` list (proc(5)). */
export function processTree(pid: number): number[] {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) {
    for (const tid of safeReaddir(`/proc/${pids[i]}/task`)) {
      const children = safeRead(`/proc/${pids[i]}/task/${tid}/children`).trim();
      if (children) pids.push(...children.split(/\s+/).map(Number));
    }
  }
  return pids;
}

/** Summed VmRSS of the processes; throws once the first (the proxy itself) is gone. */
export function treeRss(pids: number[]): number {
  let total = 0;
  for (const [i, pid] of pids.entries()) {
    try {
      total += readRss(pid);
    } catch (error) {
      if (i === 0) throw error;
    }
  }
  return total;
}

/** Tracks the highest summed RSS of `pids` until stopped; a proxy that has exited just ends the sampling. */
export function sampleRss(pids: number[]): { stop(): number } {
  let peak = 0;
  const sample = () => {
    try {
      peak = Math.max(peak, treeRss(pids));
    } catch {
      clearInterval(timer);
    }
  };
  const timer = setInterval(sample, RSS_SAMPLE_MS);
  sample();
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** The path `cpuSeconds` reads for every core of the machine together. */
export const MACHINE_STAT = '/proc/stat';

/** The stat files of a process tree, for `sampleCpu`. */
export function processStats(pids: number[]): string[] {
  return pids.map((pid) => `/proc/${pid}/stat`);
}

/**
 * User + system CPU seconds of a process (`/proc/<pid>/stat`, all its threads),
 * one thread (`/proc/<pid>/task/<tid>/stat`) or the whole machine
 * (MACHINE_STAT: busy time of all cores); NaN once it is gone.
 */
export function cpuSeconds(statPath: string): number {
  try {
    const text = readFileSync(statPath, 'utf8');
    if (statPath === MACHINE_STAT) {
      // `cpu  user nice system idle iowait irq softirq steal …` (proc(5)); guest time is already in user.
      const [user, nice, system, , , irq, softirq, steal] = text.slice(0, text.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
      return (user! + nice! + system! + irq! + softirq! + steal!) / CLOCK_TICKS;
    }
    // Fields after the `(comm)`, which may hold spaces: state is field 3, utime 14, stime 15 (proc(5)).
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[14 - 3]) + Number(fields[15 - 3])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/**
 * Busy share of one core over an interval for each group of stat paths,
 * summed within a group: `stop()` returns percentages in the same order;
 * an empty group (no proxy) gives undefined.
 */
export function sampleCpu(groups: string[][]): { stop(): (number | undefined)[] } {
  const total = (paths: string[]) => paths.reduce((sum, path) => sum + cpuSeconds(path), 0);
  const started = performance.now();
  const before = groups.map(total);
  return {
    stop() {
      const seconds = (performance.now() - started) / 1000;
      return groups.map((paths, i) => (paths.length === 0 ? undefined : ((total(paths) - before[i]!) / seconds) * 100));
    },
  };
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
