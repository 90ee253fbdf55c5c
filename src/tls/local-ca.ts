import { join } from './data-dir.ts';
import type { HostFiles } from './host-files.ts';
import { generateKeys, importPrivateKeyPem, KEY_ALGORITHM, privateKeyPem, serialNumber, x509, type X509Certificate } from './x509.ts';

// The local CA `--https` uses: made once in the user data directory, its key
// 0600, and a leaf for the loopback names plus allowed_hosts, issued again
// before it expires or when the names change. Browsers trust the CA once
// (`rxroute trust`), so a new leaf needs nothing from the user.

export const CA_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca-key.pem';
export const LEAF_FILE = 'localhost.pem';
export const LEAF_KEY_FILE = 'localhost-key.pem';

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_DAYS = 3650;
/** Under the 398 days browsers accept for any leaf. */
const LEAF_DAYS = 397;
/** A leaf with fewer days than this left is issued again. */
export const RENEW_BEFORE_DAYS = 30;
/** Clock skew between this machine and a VM or phone browsing it. */
const BACKDATE_MS = 60 * 60 * 1000;

const LOOPBACK_NAMES = ['localhost', '*.localhost', '127.0.0.1', '::1'];

export interface LocalCertificates {
  cert: string;
  key: string;
  dir: string;
  caPath: string;
  /** What was done this time, for the startup line. */
  caCreated: boolean;
  leaf: 'issued' | 'kept';
  /** Why a leaf was issued again, when it was. */
  renewed?: string;
  notAfter: Date;
}

/** The leaf's subject alternative names: loopback names, then allowed_hosts as given. */
export function leafNames(allowedHosts: readonly string[]): string[] {
  const names = [...LOOPBACK_NAMES];
  for (const host of allowedHosts) {
    const name = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
    if (name && !names.includes(name)) names.push(name);
  }
  return names;
}

/** Reads or makes the CA, then reads or issues the leaf for `names`. */
export async function localCertificates(files: HostFiles, dir: string, names: string[], now = new Date()): Promise<LocalCertificates> {
  const caPath = join(dir, CA_FILE);
  let caCreated = false;
  let ca = await readCa(files, dir);
  if (!ca || ca.cert.notAfter.getTime() - now.getTime() < LEAF_DAYS * DAY_MS) {
    ca = await createCa(files, dir, now);
    caCreated = true;
  }
  const leafPath = join(dir, LEAF_FILE);
  const leafKeyPath = join(dir, LEAF_KEY_FILE);
  const leafPem = files.readText(leafPath);
  const keyPem = files.readText(leafKeyPath);
  if (leafPem && keyPem) {
    const reason = await renewalReason(new x509.X509Certificate(leafPem), ca.cert, names, now);
    if (!reason) {
      const leaf = new x509.X509Certificate(leafPem);
      return { cert: leafPem, key: keyPem, dir, caPath, caCreated, leaf: 'kept', notAfter: leaf.notAfter };
    }
    const issued = await issueLeaf(files, dir, ca, names, now);
    return { ...issued, dir, caPath, caCreated, leaf: 'issued', renewed: reason };
  }
  const issued = await issueLeaf(files, dir, ca, names, now);
  return { ...issued, dir, caPath, caCreated, leaf: 'issued' };
}

interface Ca {
  cert: X509Certificate;
  key: CryptoKey;
}

async function readCa(files: HostFiles, dir: string): Promise<Ca | undefined> {
  const certPem = files.readText(join(dir, CA_FILE));
  const keyPem = files.readText(join(dir, CA_KEY_FILE));
  if (!certPem || !keyPem) return undefined;
  return { cert: new x509.X509Certificate(certPem), key: await importPrivateKeyPem(keyPem) };
}

async function createCa(files: HostFiles, dir: string, now: Date): Promise<Ca> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    // The date tells two machines' CAs apart in a browser's certificate list.
    name: `CN=rxroute development CA ${now.toISOString().slice(0, 10)}, O=rxroute`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + CA_DAYS * DAY_MS),
    keys,
    signingAlgorithm: KEY_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  // The key first, private from its first byte on disk.
  files.writeText(join(dir, CA_KEY_FILE), await privateKeyPem(keys.privateKey), 0o600);
  files.writeText(join(dir, CA_FILE), cert.toString('pem'), 0o644);
  // A leaf of an older CA would not verify against the new one.
  return { cert, key: keys.privateKey };
}

async function issueLeaf(files: HostFiles, dir: string, ca: Ca, names: string[], now: Date): Promise<{ cert: string; key: string; notAfter: Date }> {
  const keys = await generateKeys();
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${names[0] ?? 'localhost'}, O=rxroute development`,
    issuer: ca.cert.subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + LEAF_DAYS * DAY_MS),
    signingKey: ca.key,
    publicKey: keys.publicKey,
    signingAlgorithm: KEY_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: isIp(value) ? ('ip' as const) : ('dns' as const), value }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  const cert = leaf.toString('pem');
  const key = await privateKeyPem(keys.privateKey);
  files.writeText(join(dir, LEAF_KEY_FILE), key, 0o600);
  files.writeText(join(dir, LEAF_FILE), cert, 0o644);
  return { cert, key, notAfter: leaf.notAfter };
}

/** Why the stored leaf must be issued again, or undefined when it can be served. */
export async function renewalReason(leaf: X509Certificate, ca: X509Certificate, names: readonly string[], now: Date): Promise<string | undefined> {
  const daysLeft = Math.floor((leaf.notAfter.getTime() - now.getTime()) / DAY_MS);
  if (daysLeft < RENEW_BEFORE_DAYS) return daysLeft < 0 ? 'it had expired' : `it expires in ${daysLeft} days`;
  if (leaf.notBefore.getTime() > now.getTime()) return 'it is not valid yet';
  if (leaf.issuer !== ca.subject || !(await leaf.verify({ publicKey: ca, signatureOnly: true }))) return 'it was issued by another CA';
  const have = new Set(sanValues(leaf));
  const missing = names.filter((n) => !have.has(normalizeName(n)));
  if (missing.length > 0) return `it does not name ${missing.join(', ')}`;
  return undefined;
}

/** The certificate's DNS names and IP addresses, normalised for comparison. */
export function sanValues(cert: X509Certificate): string[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return san ? san.names.items.filter((n) => n.type === 'dns' || n.type === 'ip').map((n) => normalizeName(n.value)) : [];
}

function normalizeName(value: string): string {
  return value.toLowerCase() === '0:0:0:0:0:0:0:1' ? '::1' : value.toLowerCase();
}

function isIp(value: string): boolean {
  return value.includes(':') || /^\d{1,3}(\.\d{1,3}){3}$/.test(value);
}
