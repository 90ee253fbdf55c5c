import { join } from './data-dir.ts';
import type { HostFiles } from './host-files.ts';

// `rxroute trust`: the commands that add rxroute's CA to the system store
// and to NSS (Chrome and Firefox on Linux keep their own), per platform.
// Planning is pure; cli/trust-command.ts prints and runs the plan.

export interface TrustStep {
  /** What the step does, in a few words. */
  what: string;
  argv: string[];
  /** A failure here does not stop the rest (an NSS database that is absent). */
  optional?: boolean;
}

export interface TrustPlan {
  steps: TrustStep[];
  /** What could not be planned and what to install for it. */
  notes: string[];
}

export function trustPlan(files: HostFiles, caPath: string, nickname: string): TrustPlan {
  const steps: TrustStep[] = [];
  const notes: string[] = [];
  const sudo = (argv: string[]) => (files.isRoot || files.platform === 'win32' || !files.hasCommand('sudo') ? argv : ['sudo', ...argv]);
  const home = files.home();
  const nss = (db: string, what: string): TrustStep => ({
    what,
    argv: ['certutil', '-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', nickname, '-i', caPath],
    optional: true,
  });
  const firefoxRoots: string[] = [];

  if (files.platform === 'darwin') {
    steps.push({ what: 'system keychain', argv: sudo(['security', 'add-trusted-cert', '-d', '-r', 'trustRoot', '-k', '/Library/Keychains/System.keychain', caPath]) });
    firefoxRoots.push(join(home, 'Library', 'Application Support', 'Firefox', 'Profiles'));
  } else if (files.platform === 'win32') {
    // The current user's root store: what Chrome and Edge read, no elevation needed.
    steps.push({ what: 'Windows user root store', argv: ['certutil', '-user', '-addstore', '-f', 'Root', caPath] });
    notes.push('Firefox on Windows: set security.enterprise_roots.enabled to true in about:config to use the Windows store');
  } else {
    if (files.hasCommand('update-ca-certificates')) {
      steps.push({ what: 'system store (Debian, Ubuntu)', argv: sudo(['cp', caPath, '/usr/local/share/ca-certificates/rxroute.crt']) });
      steps.push({ what: 'system store (Debian, Ubuntu)', argv: sudo(['update-ca-certificates']) });
    } else if (files.hasCommand('update-ca-trust')) {
      steps.push({ what: 'system store (Fedora, RHEL)', argv: sudo(['cp', caPath, '/etc/pki/ca-trust/source/anchors/rxroute.pem']) });
      steps.push({ what: 'system store (Fedora, RHEL)', argv: sudo(['update-ca-trust', 'extract']) });
    } else {
      notes.push(`no update-ca-certificates or update-ca-trust here: add ${caPath} to the system trust store by hand`);
    }
    firefoxRoots.push(join(home, '.mozilla', 'firefox'), join(home, 'snap', 'firefox', 'common', '.mozilla', 'firefox'));
  }

  const profiles = firefoxRoots.flatMap((root) => files.list(root).map((name) => join(root, name))).filter((dir) => files.list(dir).includes('cert9.db'));
  if (files.platform !== 'win32') {
    const chromeDb = join(home, '.pki', 'nssdb');
    const wantsChromeDb = files.platform !== 'darwin';
    if (!files.hasCommand('certutil')) {
      if (wantsChromeDb || profiles.length > 0) {
        notes.push(
          `certutil (NSS) is not installed, so ${wantsChromeDb ? 'Chrome/Chromium' : 'Firefox'} is not covered: install libnss3-tools (Debian, Ubuntu), nss-tools (Fedora) or nss (Homebrew), then run rxroute trust again`,
        );
      }
    } else {
      if (wantsChromeDb) {
        // Chrome makes this database on first start; make it if it has not run yet.
        if (!files.list(chromeDb).includes('cert9.db')) {
          steps.push({ what: 'new NSS database for Chrome/Chromium', argv: ['mkdir', '-p', chromeDb], optional: true });
          steps.push({ what: 'new NSS database for Chrome/Chromium', argv: ['certutil', '-d', `sql:${chromeDb}`, '-N', '--empty-password'], optional: true });
        }
        steps.push(nss(chromeDb, 'Chrome/Chromium (NSS)'));
      }
      for (const profile of profiles) steps.push(nss(profile, `Firefox profile ${profile.split(/[\\/]/).pop()}`));
    }
  }
  return { steps, notes };
}

/** A command line as a person would paste it into a shell. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
