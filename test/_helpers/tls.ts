import http2, { type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { generateKeys, KEY_ALGORITHM, privateKeyPem, serialNumber, x509, type X509Certificate } from '../../src/tls/x509.ts';

// Clients and certificates for the --https tests: node:http2 with the
// windows Chrome uses, tls.connect for ALPN, and certificates of a test's
// own CA (any dates, any names) made with the same library as rxroute's.

/** A fresh RXROUTE_DATA_DIR. */
export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'rxroute-tls-'));
}

export function readCa(dataDir: string): string {
  return readFileSync(join(dataDir, 'ca.pem'), 'utf8');
}

/** Chrome's HTTP/2 receive windows: 6 MiB per stream, 15 MiB per connection. */
const CHROME_STREAM_WINDOW = 6 * 1024 * 1024;
const CHROME_SESSION_WINDOW = 15 * 1024 * 1024;

/** An h2 session to `https://localhost:PORT` trusting only `ca`. */
export async function h2Connect(port: number, ca: string): Promise<ClientHttp2Session> {
  const session = http2.connect(`https://localhost:${port}`, { ca, settings: { initialWindowSize: CHROME_STREAM_WINDOW } });
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  session.setLocalWindowSize(CHROME_SESSION_WINDOW);
  session.on('error', () => {});
  return session;
}

export interface H2Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request on `session`; `body` writes the request body (or none). */
export function h2Request(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body?: (stream: http2.ClientHttp2Stream) => void | Promise<void>,
): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    const chunks: Buffer[] = [];
    let head: IncomingHttpHeaders = {};
    stream.on('response', (h) => (head = h));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    if (body) Promise.resolve(body(stream)).catch((error) => stream.destroy(error));
  });
}

/** The protocol ALPN settles on when the client offers `protocols`, trusting only `ca`. */
export function negotiate(port: number, ca: string, protocols: string[]): Promise<{ alpn: string | false; authorized: boolean; peer: tls.PeerCertificate }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, ALPNProtocols: protocols }, () => {
      resolve({ alpn: socket.alpnProtocol ?? false, authorized: socket.authorized, peer: socket.getPeerCertificate() });
      socket.end();
    });
    socket.once('error', reject);
  });
}

export interface TestCa {
  pem: string;
  issue(options: { names: string[]; notBefore: Date; notAfter: Date }): Promise<{ cert: string; key: string }>;
}

/** A CA of the test's own, for --cert/--key files and for leaves planted in a data directory. */
export async function testCa(existing?: { cert: string; key: string }): Promise<TestCa> {
  let cert: X509Certificate;
  let key: CryptoKey;
  if (existing) {
    cert = new x509.X509Certificate(existing.cert);
    key = await crypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(existing.key), KEY_ALGORITHM, true, ['sign']);
  } else {
    const keys = await generateKeys();
    cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serialNumber(),
      name: 'CN=rxroute test CA',
      notBefore: new Date(Date.now() - 86_400_000),
      notAfter: new Date(Date.now() + 10 * 86_400_000 * 365),
      keys,
      signingAlgorithm: KEY_ALGORITHM,
      extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
    });
    key = keys.privateKey;
  }
  return {
    pem: cert.toString('pem'),
    async issue({ names, notBefore, notAfter }) {
      const keys = await generateKeys();
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: serialNumber(),
        subject: `CN=${names[0]}`,
        issuer: cert.subject,
        notBefore,
        notAfter,
        signingKey: key,
        publicKey: keys.publicKey,
        signingAlgorithm: KEY_ALGORITHM,
        extensions: [
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: /^[\d.]+$|:/.test(value) ? ('ip' as const) : ('dns' as const), value }))),
        ],
      });
      return { cert: leaf.toString('pem'), key: await privateKeyPem(keys.privateKey) };
    },
  };
}
