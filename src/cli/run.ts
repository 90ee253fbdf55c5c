import { ConfigError, RuntimeFailure } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import { versionLine } from '../version.ts';
import { parseArgs } from './args.ts';
import { demoCommand } from './demo-command.ts';
import { devCommand } from './dev-command.ts';
import { doctorCommand } from './doctor-command.ts';
import { exportCommand } from './export-command.ts';
import { HELP } from './help.ts';
import { routesCommand } from './routes-command.ts';
import { serveCommand } from './serve-command.ts';
import { trustCommand } from './trust-command.ts';

/**
 * The CLI entry: dispatches a command and turns every user-facing error into
 * `rxroute: error: …` plus a hint line and an exit code (DESIGN §8).
 */
export async function runCli(runtime: Runtime): Promise<void> {
  let code: number | 'serving';
  try {
    const args = parseArgs(runtime.args);
    switch (args.command) {
      case 'help':
        console.log(HELP);
        code = 0;
        break;
      case 'version':
        console.log(versionLine(runtime));
        code = 0;
        break;
      case 'routes':
        code = routesCommand(args, runtime);
        break;
      case 'export':
        code = exportCommand(args, runtime);
        break;
      case 'doctor':
        code = await doctorCommand(args, runtime);
        break;
      case 'demo':
        code = await demoCommand(args, runtime);
        break;
      case 'trust':
        code = await trustCommand(args, runtime);
        break;
      case 'run':
        code = await serveCommand(args, runtime);
        break;
      case 'dev':
        code = await devCommand(args, runtime);
        break;
    }
  } catch (error) {
    code = reportError(error);
  }
  if (code !== 'serving') runtime.exit(code);
}

function reportError(error: unknown): number {
  if (error instanceof ConfigError) {
    for (const problem of error.problems) console.error(`rxroute: error: ${problem}`);
    console.error(`hint: ${error.hint}`);
    return error.exitCode;
  }
  if (error instanceof RuntimeFailure) {
    console.error(`rxroute: error: ${error.message}`);
    console.error(`hint: ${error.hint}`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  console.error(`rxroute: error: unexpected failure: ${message}`);
  console.error('hint: this is a bug in rxroute; please report it with the command you ran');
  if (error instanceof Error && error.stack) console.error(error.stack);
  return 1;
}
