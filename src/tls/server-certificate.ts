import type { Config } from '../config/schema.ts';
import { ConfigError, RuntimeFailure } from '../errors.ts';
import { dataDir } from './data-dir.ts';
import type { HostFiles } from './host-files.ts';
import { leafNames, localCertificates, type LocalCertificates } from './local-ca.ts';
import { userCertificate } from './user-certificate.ts';

// The certificate `--https` serves: the user's own (--cert/--key), or a
// leaf of rxroute's local CA. Loaded lazily by serve-command, so plain HTTP
// never loads the X.509 code.

export interface ServerTls {
  cert: string;
  key: string;
  /** Where the certificate came from, for the banner. */
  source: string;
  /** Things to tell the user once (a new CA to trust, a renewed leaf). */
  notes: string[];
}

const WILDCARD_OR_LOOPBACK = /^(0\.0\.0\.0|::|\[::\]|localhost|127(?:\.\d{1,3}){3}|::1|\[::1\])$/i;

export async function serverTls(config: Config, env: Record<string, string | undefined>, files: HostFiles, now = new Date()): Promise<ServerTls> {
  if (config.cert !== undefined && config.key === undefined) {
    throw new ConfigError([`--cert ${config.cert} needs --key FILE, its private key`], 'pass both --cert and --key (or RXROUTE_CERT and RXROUTE_KEY, or cert and key in rxroute.json)');
  }
  if (config.key !== undefined && config.cert === undefined) {
    throw new ConfigError([`--key ${config.key} needs --cert FILE, its certificate`], 'pass both --cert and --key (or RXROUTE_CERT and RXROUTE_KEY, or cert and key in rxroute.json)');
  }
  if (config.cert !== undefined && config.key !== undefined) {
    const user = await userCertificate(files, config.cert, config.key, now);
    return { cert: user.cert, key: user.key, source: `${config.cert} (until ${day(user.notAfter)})`, notes: [] };
  }
  const local = await ensureLocalCertificates(config, env, files, now);
  const notes: string[] = [];
  if (local.caCreated) notes.push(`made a local CA in ${local.dir}: run \`rxroute trust\` once so browsers accept it`);
  if (local.renewed) notes.push(`issued a new certificate for ${leafNames(names(config)).join(', ')}: the old one ${local.renewed}`);
  return { cert: local.cert, key: local.key, source: `rxroute local CA, ${local.caPath} (leaf until ${day(local.notAfter)})`, notes };
}

/** The local CA and a current leaf; a data directory that cannot be written is a RuntimeFailure. */
export async function ensureLocalCertificates(
  config: Config,
  env: Record<string, string | undefined>,
  files: HostFiles,
  now = new Date(),
): Promise<LocalCertificates> {
  const dir = dataDir(env, files.platform, files.home());
  try {
    return await localCertificates(files, dir, leafNames(names(config)), now);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR') {
      throw new RuntimeFailure(`cannot write rxroute's certificates in ${dir} (${code})`, code, 'set RXROUTE_DATA_DIR to a directory this user may write', { cause: error });
    }
    throw error;
  }
}

/** allowed_hosts, plus the bound address when it is a specific one (a LAN IP). */
function names(config: Config): string[] {
  return WILDCARD_OR_LOOPBACK.test(config.host) ? config.allowed_hosts : [...config.allowed_hosts, config.host];
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}
