import { describe, it, expect } from 'vitest';
import { dataDir } from '../../src/tls/data-dir.ts';
import type { HostFiles } from '../../src/tls/host-files.ts';
import { leafNames, localCertificates, renewalReason } from '../../src/tls/local-ca.ts';
import { shellQuote, trustPlan } from '../../src/tls/trust.ts';
import { x509 } from '../../src/tls/x509.ts';

/** HostFiles over an in-memory map: what the portable code writes and reads. */
function memoryFiles(platform: string, commands: string[] = [], dirs: Record<string, string[]> = {}): HostFiles & { files: Map<string, { text: string; mode: number }> } {
  const files = new Map<string, { text: string; mode: number }>();
  return {
    files,
    platform,
    isRoot: false,
    home: () => (platform === 'win32' ? 'C:\\Users\\me' : '/home/me'),
    readText: (path) => files.get(path)?.text,
    writeText: (path, text, mode) => void files.set(path, { text, mode }),
    mode: (path) => files.get(path)?.mode,
    list: (path) => dirs[path] ?? [],
    hasCommand: (name) => commands.includes(name),
    run: async () => 0,
  };
}

describe('dataDir', () => {
  it('follows each platform and lets RXROUTE_DATA_DIR win', () => {
    expect({
      linux: dataDir({}, 'linux', '/home/me'),
      xdg: dataDir({ XDG_DATA_HOME: '/data' }, 'linux', '/home/me'),
      mac: dataDir({}, 'darwin', '/Users/me'),
      windows: dataDir({ LOCALAPPDATA: 'C:\\Users\\me\\AppData\\Local' }, 'win32', 'C:\\Users\\me'),
      override: dataDir({ RXROUTE_DATA_DIR: '/tmp/x', XDG_DATA_HOME: '/data' }, 'linux', '/home/me'),
    }).toEqual({
      linux: '/home/me/.local/share/rxroute',
      xdg: '/data/rxroute',
      mac: '/Users/me/Library/Application Support/rxroute',
      windows: 'C:\\Users\\me\\AppData\\Local\\rxroute',
      override: '/tmp/x',
    });
  });
});

describe('local CA', () => {
  it('names the loopback set plus allowed_hosts once each', () => {
    expect(leafNames(['MyApp.test.', 'localhost', '[::1]', '192.168.1.5'])).toEqual(['localhost', '*.localhost', '127.0.0.1', '::1', 'myapp.test', '192.168.1.5']);
  });

  it('makes the CA once with its key 0600, keeps a current leaf and renews one near its end', async () => {
    const files = memoryFiles('linux');
    const names = leafNames([]);
    const now = new Date('2026-12-01T00:00:00Z');
    const first = await localCertificates(files, '/d', names, now);
    const again = await localCertificates(files, '/d', names, new Date('2027-06-01T00:00:00Z'));
    const late = await localCertificates(files, '/d', names, new Date('2027-12-10T00:00:00Z'));
    const renamed = await localCertificates(files, '/d', leafNames(['new.test']), new Date('2027-12-11T00:00:00Z'));
    expect({
      created: first.caCreated,
      keyMode: files.files.get('/d/ca-key.pem')?.mode.toString(8),
      leafKeyMode: files.files.get('/d/localhost-key.pem')?.mode.toString(8),
      again: [again.caCreated, again.leaf, again.cert === first.cert],
      late: [late.caCreated, late.leaf, late.renewed],
      renamed: [renamed.leaf, renamed.renewed],
    }).toEqual({
      created: true,
      keyMode: '600',
      leafKeyMode: '600',
      again: [false, 'kept', true],
      late: [false, 'issued', 'it expires in 23 days'],
      renamed: ['issued', 'it does not name new.test'],
    });
  });

  it('renews a leaf that another CA issued', async () => {
    const a = memoryFiles('linux');
    const b = memoryFiles('linux');
    const now = new Date();
    await localCertificates(a, '/d', leafNames([]), now);
    await localCertificates(b, '/d', leafNames([]), now);
    const leafOfA = new x509.X509Certificate(a.files.get('/d/localhost.pem')!.text);
    const caOfB = new x509.X509Certificate(b.files.get('/d/ca.pem')!.text);
    expect(await renewalReason(leafOfA, caOfB, leafNames([]), now)).toBe('it was issued by another CA');
  });
});

describe('trustPlan', () => {
  it('Debian with certutil: system store with sudo, then Chrome\'s NSS database (made first) and Firefox profiles', () => {
    const files = memoryFiles('linux', ['update-ca-certificates', 'certutil', 'sudo'], {
      '/home/me/.mozilla/firefox': ['abc.default-release', 'installs.ini'],
      '/home/me/.mozilla/firefox/abc.default-release': ['cert9.db'],
    });
    const plan = trustPlan(files, '/d/ca.pem', 'rxroute development CA 2026-12-01');
    expect(plan.steps.map((s) => shellQuote(s.argv))).toEqual([
      'sudo cp /d/ca.pem /usr/local/share/ca-certificates/rxroute.crt',
      'sudo update-ca-certificates',
      'mkdir -p /home/me/.pki/nssdb',
      'certutil -d sql:/home/me/.pki/nssdb -N --empty-password',
      "certutil -d sql:/home/me/.pki/nssdb -A -t C,, -n 'rxroute development CA 2026-12-01' -i /d/ca.pem",
      "certutil -d sql:/home/me/.mozilla/firefox/abc.default-release -A -t C,, -n 'rxroute development CA 2026-12-01' -i /d/ca.pem",
    ]);
  });

  it('Fedora without certutil says what to install', () => {
    const plan = trustPlan(memoryFiles('linux', ['update-ca-trust']), '/d/ca.pem', 'n');
    expect({ steps: plan.steps.map((s) => shellQuote(s.argv)), notes: plan.notes.length, says: plan.notes[0]?.includes('nss-tools') }).toEqual({
      steps: ['cp /d/ca.pem /etc/pki/ca-trust/source/anchors/rxroute.pem', 'update-ca-trust extract'],
      notes: 1,
      says: true,
    });
  });

  it('macOS uses the system keychain; Windows the user root store', () => {
    expect(trustPlan(memoryFiles('darwin', ['sudo']), '/d/ca.pem', 'n').steps.map((s) => shellQuote(s.argv))).toEqual([
      'sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain /d/ca.pem',
    ]);
    expect(trustPlan(memoryFiles('win32'), 'C:\\d\\ca.pem', 'n').steps.map((s) => s.argv)).toEqual([['certutil', '-user', '-addstore', '-f', 'Root', 'C:\\d\\ca.pem']]);
  });
});
