import { ConfigError } from '../errors.ts';
import type { HostFiles } from './host-files.ts';
import { x509, type X509Certificate } from './x509.ts';

// `--cert`/`--key`: the user's own files (mkcert's, a company CA's). Checked
// before binding so a wrong file is one clear line and exit 2, not a TLS
// library's stack trace or a browser error page.

const HINT = '--cert takes a PEM certificate and --key its PEM private key (mkcert writes both); drop them to use rxroute\'s own CA';

export interface UserCertificate {
  cert: string;
  key: string;
  notAfter: Date;
  names: string[];
}

export async function userCertificate(files: HostFiles, certPath: string, keyPath: string, now = new Date()): Promise<UserCertificate> {
  const certPem = readFile(files, certPath, '--cert');
  const keyPem = readFile(files, keyPath, '--key');
  let cert: X509Certificate;
  try {
    cert = new x509.X509Certificate(firstPem(certPem, 'CERTIFICATE', certPath, '--cert'));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError([`--cert ${certPath} is not a valid certificate (${(error as Error).message})`], HINT);
  }
  if (cert.notAfter.getTime() <= now.getTime()) {
    throw new ConfigError([`--cert ${certPath} expired on ${cert.notAfter.toISOString()}`], 'issue a new certificate (mkcert localhost), or drop --cert/--key to use rxroute\'s own CA');
  }
  if (cert.notBefore.getTime() > now.getTime()) {
    throw new ConfigError([`--cert ${certPath} is not valid before ${cert.notBefore.toISOString()}`], 'check the machine\'s clock, or issue a new certificate');
  }
  const label = /-----BEGIN ((?:RSA |EC )?PRIVATE KEY)-----/.exec(keyPem)?.[1];
  if (!label) {
    const found = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(keyPem)?.[1];
    throw new ConfigError(
      [`--key ${keyPath} is not a PEM private key (${found ? `found "${found}"` : 'no PEM block'}; expected PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)`],
      HINT,
    );
  }
  const matches = await keyMatches(cert, firstPem(keyPem, label, keyPath, '--key'), label);
  if (matches === false) {
    throw new ConfigError([`--key ${keyPath} is not the private key of --cert ${certPath}`], 'pass the key file that was made with this certificate');
  }
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return { cert: certPem, key: keyPem, notAfter: cert.notAfter, names: san ? san.names.items.map((n) => n.value) : [] };
}

function readFile(files: HostFiles, path: string, flag: string): string {
  let text: string | undefined;
  try {
    text = files.readText(path);
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).message;
    throw new ConfigError([`cannot read ${flag} ${path} (${code})`], 'check the path and that this user may read the file');
  }
  if (text === undefined) throw new ConfigError([`${flag} ${path} not found`], 'check the path (relative paths start at the working directory)');
  return text;
}

function firstPem(text: string, label: string, path: string, flag: string): ArrayBuffer {
  const block = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(text);
  if (!block) throw new ConfigError([`${flag} ${path} holds no PEM "${label}" block`], HINT);
  const bytes = Uint8Array.from(atob(block[1]!.replace(/\s+/g, '')), (c) => c.charCodeAt(0));
  return bytes.buffer;
}

/**
 * Whether the key belongs to the certificate: both public keys compared as
 * JWK. undefined when Web Crypto cannot import this kind of key; the TLS
 * stack then judges it when the server starts.
 */
async function keyMatches(cert: X509Certificate, der: ArrayBuffer, label: string): Promise<boolean | undefined> {
  const pkcs8: Uint8Array<ArrayBuffer> | undefined = label === 'PRIVATE KEY' ? new Uint8Array(der) : wrapPkcs8(new Uint8Array(der), label);
  const algorithm = pkcs8 && importAlgorithm(pkcs8);
  if (!pkcs8 || !algorithm) return undefined;
  let privateJwk: JsonWebKey;
  let publicJwk: JsonWebKey;
  try {
    const key = await crypto.subtle.importKey('pkcs8', pkcs8, algorithm, true, ['sign']);
    privateJwk = await crypto.subtle.exportKey('jwk', key);
  } catch {
    throw new ConfigError([`the private key in --key cannot be read (a damaged or encrypted key?)`], HINT);
  }
  try {
    publicJwk = await crypto.subtle.exportKey('jwk', await cert.publicKey.export(algorithm, ['verify']));
  } catch {
    return false;
  }
  const fields = privateJwk.kty === 'RSA' ? (['n', 'e'] as const) : (['crv', 'x', 'y'] as const);
  return fields.every((f) => privateJwk[f] === publicJwk[f]);
}

const OID = {
  rsa: [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
  ec: [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01],
  ed25519: [0x2b, 0x65, 0x70],
  curves: {
    'P-256': [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
    'P-384': [0x2b, 0x81, 0x04, 0x00, 0x22],
    'P-521': [0x2b, 0x81, 0x04, 0x00, 0x23],
  },
};

function importAlgorithm(pkcs8: Uint8Array): RsaHashedImportParams | EcKeyImportParams | Algorithm | undefined {
  // The AlgorithmIdentifier sits in the first few dozen bytes of PKCS#8.
  const head = pkcs8.subarray(0, 40);
  if (contains(head, OID.rsa)) return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  if (contains(head, OID.ed25519)) return { name: 'Ed25519' };
  if (contains(head, OID.ec)) {
    for (const [curve, oid] of Object.entries(OID.curves)) if (contains(head, oid)) return { name: 'ECDSA', namedCurve: curve };
  }
  return undefined;
}

/** PKCS#1 (RSA PRIVATE KEY) or SEC1 (EC PRIVATE KEY) inside a PKCS#8 PrivateKeyInfo (RFC 5208), for Web Crypto. */
function wrapPkcs8(inner: Uint8Array, label: string): Uint8Array<ArrayBuffer> | undefined {
  let algorithm: number[];
  if (label === 'RSA PRIVATE KEY') algorithm = der(0x30, [...der(0x06, OID.rsa), 0x05, 0x00]);
  else {
    const curve = Object.values(OID.curves).find((oid) => contains(inner, oid));
    if (!curve) return undefined;
    algorithm = der(0x30, [...der(0x06, OID.ec), ...der(0x06, curve)]);
  }
  return new Uint8Array(der(0x30, [0x02, 0x01, 0x00, ...algorithm, ...der(0x04, [...inner])]));
}

function der(tag: number, content: number[]): number[] {
  const n = content.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return [tag, ...length, ...content];
}

function contains(haystack: Uint8Array, needle: number[]): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}
