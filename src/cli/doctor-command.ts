import type { Config } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { buildRouteTable, type RouteTable } from '../routing/route-table.ts';
import type { Runtime } from '../runtime.ts';
import type { ParsedArgs } from './args.ts';
import { checkDjangoSettings, checkEnvJson, checkHttpsSettings, checkPort, checkRxconfig, checkUpstreams, type Finding, type Level } from './doctor-checks.ts';
import { loadCliConfigWithSources } from './load-cli-config.ts';

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|::1|\[::1\])$/i;
const LEVEL_COLOR: Record<Level, number> = { ok: 32, warn: 33, fail: 31 };

/**
 * `rxroute doctor`: config, port, upstreams, .web/env.json and Django settings,
 * one line per finding with its fix. Exit 1 when any check failed; warnings
 * (advice rxroute cannot verify, or setups that work but bypass rxroute) do
 * not fail. A config error throws, so it prints and exits 2 like every command.
 */
export async function doctorCommand(args: ParsedArgs, runtime: Runtime): Promise<number> {
  if (args.positionals.length > 0) {
    throw new ConfigError([`doctor takes no arguments (got "${args.positionals.join(' ')}")`], 'run rxroute doctor with the same options as rxroute');
  }
  const sources = loadCliConfigWithSources(args, runtime, 'run');
  const { config } = sources;
  const table = buildRouteTable(config);
  const [port, upstreams] = await Promise.all([checkPort(config, runtime), checkUpstreams(config, table, runtime)]);
  const findings = [
    ...checkConfig(args, runtime, config, table, sources.rxconfig !== undefined),
    ...checkRxconfig(config, sources.origin, sources, runtime),
    port,
    ...upstreams,
    ...checkEnvJson(config, runtime),
    ...checkDjangoSettings(config, table),
    ...checkHttpsSettings(config),
  ];
  const failed = findings.some((f) => f.level === 'fail');
  if (config.log === 'json') printJson(findings, failed);
  else printPretty(findings, runtime.isTTY);
  return failed ? 1 : 0;
}

function checkConfig(args: ParsedArgs, runtime: Runtime, config: Config, table: RouteTable, readRxconfig: boolean): Finding[] {
  const file = args.configPath ?? (runtime.readTextFile('rxroute.json') === undefined ? undefined : 'rxroute.json');
  const findings: Finding[] = [
    {
      level: 'ok',
      check: 'config',
      message: file
        ? `${file} is valid (profile ${config.profile})`
        : `no rxroute.json in ${runtime.cwd()}; defaults, ${readRxconfig ? 'rxconfig.py, ' : ''}environment and flags are valid (profile ${config.profile})`,
    },
  ];
  if (!config.proxy.enabled) {
    findings.push({ level: 'warn', check: 'config', message: 'proxy.enabled=false: rxroute exits without routing', fix: 'set "proxy": {"enabled": true} in rxroute.json' });
  } else if (table.catchAll.owner === 'none') {
    findings.push({
      level: 'warn',
      check: 'config',
      message: 'dev_proxy=false and nothing on disk to serve: rxroute exits without routing',
      fix: 'set RX_DEV_PROXY=1 to proxy Vite, or serve_from_build / compile_dev to serve the build from disk',
    });
  }
  if (!LOOPBACK.test(config.host)) {
    findings.push({
      level: 'warn',
      check: 'host',
      message: `listening on ${config.host}: anyone who can reach this address can use your dev servers and Django admin`,
      fix: 'use --host 127.0.0.1 unless you mean it',
    });
  }
  return findings;
}

function printPretty(findings: Finding[], color: boolean): void {
  const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const width = Math.max(...findings.map((f) => f.check.length));
  for (const f of findings) {
    const fix = f.fix ? ` ${paint(36, '→')} ${f.fix}` : '';
    console.log(`${paint(LEVEL_COLOR[f.level], f.level.padEnd(4))}  ${f.check.padEnd(width)}  ${f.message}${fix}`);
  }
  const count = (level: Level) => findings.filter((f) => f.level === level).length;
  const [ok, warn, fail] = [count('ok'), count('warn'), count('fail')];
  const tally = [fail > 0 && `${plural(fail, 'check')} failed`, warn > 0 && plural(warn, 'warning'), `${ok} ok`].filter(Boolean).join(', ');
  const summary = fail > 0
    ? `${tally}: fix the failures above, then run rxroute doctor again`
    : warn > 0
      ? `no failures (${tally}); warnings do not change the exit code`
      : `all ${plural(ok, 'check')} ok`;
  console.log(`\n${paint(LEVEL_COLOR[fail > 0 ? 'fail' : warn > 0 ? 'warn' : 'ok'], 'rxroute doctor:')} ${summary}`);
}

function printJson(findings: Finding[], failed: boolean): void {
  for (const f of findings) console.log(JSON.stringify({ event: 'doctor', ...f }));
  const count = (level: Level) => findings.filter((f) => f.level === level).length;
  console.log(JSON.stringify({ event: 'doctor.summary', ok: count('ok'), warn: count('warn'), fail: count('fail'), exitCode: failed ? 1 : 0 }));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
