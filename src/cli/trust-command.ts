import type { Runtime } from '../runtime.ts';
import type { ParsedArgs } from './args.ts';
import { loadCliConfig } from './load-cli-config.ts';

/**
 * `rxroute trust [--print]`: adds the local CA to the system store and NSS,
 * printing each command before it runs; --print only prints them.
 */
export async function trustCommand(args: ParsedArgs, runtime: Runtime): Promise<number> {
  const config = loadCliConfig(args, runtime);
  const { ensureLocalCertificates } = await import('../tls/server-certificate.ts');
  const { shellQuote, trustPlan } = await import('../tls/trust.ts');
  const { x509 } = await import('../tls/x509.ts');
  const files = runtime.hostFiles;
  const local = await ensureLocalCertificates(config, runtime.env, files);
  const ca = new x509.X509Certificate(files.readText(local.caPath) ?? '');
  const nickname = ca.subjectName.getField('CN')[0] ?? 'rxroute development CA';
  const plan = trustPlan(files, local.caPath, nickname);
  const printOnly = args.extras['--print'] !== undefined;
  console.log(`# rxroute's local CA: ${local.caPath} (${nickname})`);
  let failed = 0;
  for (const step of plan.steps) {
    console.log(`${printOnly ? '' : '$ '}${shellQuote(step.argv)}${printOnly ? `  # ${step.what}` : ''}`);
    if (printOnly) continue;
    const code = await files.run(step.argv);
    if (code !== 0) {
      console.error(`rxroute: ${step.optional ? 'warning' : 'error'}: ${step.what}: ${step.argv[0]} exited with ${code}`);
      if (!step.optional) failed++;
    }
  }
  for (const note of plan.notes) console.log(`# ${note}`);
  if (!printOnly && failed === 0) console.log('# done: restart the browser so it reads the new trust settings');
  return failed === 0 ? 0 : 1;
}
