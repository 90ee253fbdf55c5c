import { describe, expect, it } from 'vitest';
import { spawnChild } from '../../src/adapters/child-process.ts';
import type { ProcessEvent, ProcessSpec } from '../../src/dev/process-types.ts';
import { type ExitReport, exitStatus, Supervisor } from '../../src/dev/supervisor.ts';
import { deferred, within } from '../_helpers/async.ts';

// Real children through the adapter every runtime uses (node:child_process).

const sh = (name: string, script: string): ProcessSpec => ({ name, argv: ['sh', '-c', script], display: script, cwd: process.cwd(), env: {} });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function supervise(specs: ProcessSpec[], restart = true) {
  const exits: ExitReport[] = [];
  const gaveUp = deferred<{ name: string; code: number }>();
  const sup = new Supervisor({
    specs,
    spawn: spawnChild,
    baseEnv: { PATH: process.env.PATH, FROM_BASE: 'base' },
    restart,
    onOutput: () => {},
    onStart: () => {},
    onExit: (r) => exits.push(r),
    onGiveUp: (name, code) => gaveUp.resolve({ name, code }),
  });
  return { sup, exits, gaveUp: gaveUp.promise };
}

async function until(check: () => boolean, what: string, ms = 10_000) {
  await within((async () => {
    while (!check()) await new Promise((r) => setTimeout(r, 20));
  })(), ms, what);
}

describe('Supervisor', () => {
  it('passes the environment, keeps the last 50 lines in order, and reports the exit code', async () => {
    const { sup, gaveUp, exits } = supervise(
      [{ ...sh('count', 'echo "$FROM_BASE $OWN"; i=0; while [ $i -lt 120 ]; do echo line$i; i=$((i+1)); done; echo oops >&2; exit 4'), env: { OWN: 'own' } }],
      false,
    );
    const events: ProcessEvent[] = [];
    sup.subscribe((e) => events.push(e));
    sup.start();
    expect(await within(gaveUp, 10_000, 'the child exits')).toEqual({ name: 'count', code: 4 });
    const [info] = sup.list();
    expect(info!.state).toBe('exited');
    expect(info!.exitCode).toBe(4);
    expect(info!.lines).toHaveLength(50);
    expect(info!.lines.at(-1)).toMatchObject({ stream: 'stderr', text: 'oops' });
    expect(info!.lines.at(-2)!.text).toBe('line119');
    expect(info!.lines[0]!.text).toBe('line71');
    const output = events.flatMap((e) => (e.kind === 'output' ? [e.text] : []));
    expect(output[0]).toBe('base own');
    expect(output).toHaveLength(122);
    expect(exits[0]!.restartInMs).toBeNull();
  });

  it('restarts a crashed child after 1 s, then 2 s, counting restarts', async () => {
    const { sup, exits } = supervise([sh('crash', 'exit 3')]);
    sup.start();
    await until(() => sup.list()[0]!.restarts >= 2 && exits.length >= 2, 'two restarts', 15_000);
    expect(exits.slice(0, 2).map((e) => e.restartInMs)).toEqual([1000, 2000]);
    expect(exits[0]!.process.state).toBe('backoff');
    await sup.stop();
    expect(sup.list()[0]!.state).toBe('stopped');
  });

  it('stops the whole process group, and SIGKILLs what ignores SIGTERM after the grace period', async () => {
    const { sup } = supervise([sh('stubborn', 'trap "" TERM; sleep 300 & echo $!; wait'), sh('polite', 'sleep 300')]);
    const grandchild = deferred<number>();
    sup.subscribe((e) => {
      if (e.kind === 'output' && e.name === 'stubborn') grandchild.resolve(Number(e.text));
    });
    sup.start();
    const pids = sup.list().map((p) => p.pid!);
    const sleeper = await within(grandchild.promise, 5000, 'the grandchild pid');
    expect([...pids, sleeper].every(alive)).toBe(true);
    await within(sup.stop(300), 10_000, 'stop()');
    await until(() => ![...pids, sleeper].some(alive), 'every pid gone');
    expect(sup.list().map((p) => p.state)).toEqual(['stopped', 'stopped']);
    expect(sup.list()[0]!.exitSignal).toBe('SIGKILL');
    expect(sup.list()[1]!.exitSignal).toBe('SIGTERM');
  });
});

describe('exitStatus', () => {
  it('is the code, or 128 + the signal number as a shell reports it', () => {
    expect(exitStatus(0, null)).toBe(0);
    expect(exitStatus(7, null)).toBe(7);
    expect(exitStatus(null, 'SIGTERM')).toBe(143);
    expect(exitStatus(null, 'SIGKILL')).toBe(137);
    expect(exitStatus(null, null)).toBe(128);
  });
});
