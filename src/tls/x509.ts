// @peculiar/x509 on the runtime's Web Crypto (Bun, Deno and Node 20 alike).
// It resolves its providers through tsyringe, which needs the Reflect
// metadata polyfill loaded first: this file is the one place that imports it.
// The library comes in by a dynamic import because a static one may be
// evaluated before the polyfill once bundled (bun build --compile did so).
import 'reflect-metadata';
import type * as X509 from '@peculiar/x509';

export type { X509Certificate } from '@peculiar/x509';

export const x509: typeof X509 = await import('@peculiar/x509');
x509.cryptoProvider.set(globalThis.crypto);

/** ECDSA P-256 with SHA-256: small, fast to make, accepted by every browser and TLS stack. */
export const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export async function generateKeys(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

export async function importPrivateKeyPem(pem: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), KEY_ALGORITHM, true, ['sign']);
}

/** A random positive serial number (RFC 5280 §4.1.2.2: up to 20 octets, unique per CA). */
export function serialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f;
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}
