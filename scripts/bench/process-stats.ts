import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// What the bench reads from /proc about the processes and threads it runs:
// a router's memory, and who spent the CPU during a measurement.

const RSS_SAMPLE_MS = 50;

export function readRss(pid: number): number {
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb) * 1024;
}

/** Tracks the highest RSS of `pid` until stopped; a process that has exited just ends the sampling. */
export function sampleRss(pid: number): { stop(): number } {
  let peak = 0;
  const sample = () => {
    try {
      peak = Math.max(peak, readRss(pid));
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

/** Busy share of one core for each path over an interval: `stop()` returns percentages in the same order. */
export function sampleCpu(statPaths: string[]): { stop(): number[] } {
  const started = performance.now();
  const before = statPaths.map(cpuSeconds);
  return {
    stop() {
      const seconds = (performance.now() - started) / 1000;
      return statPaths.map((path, i) => ((cpuSeconds(path) - before[i]!) / seconds) * 100);
    },
  };
}
