import { connect } from 'node:net';
import type { Probe } from '../proxy/upstream-health.ts';

// Upstream liveness by TCP connect (node:net works on Bun, Deno and Node):
// cheap, and it sees exactly what matters during a restart, whether the
// port accepts connections yet.

const PROBE_TIMEOUT_MS = 1000;

export const tcpProbe: Probe = (origin) =>
  new Promise((resolve, reject) => {
    const url = new URL(origin);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const started = performance.now();
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port });
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => fail(new Error(`${origin} did not accept a connection within ${PROBE_TIMEOUT_MS} ms`)));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      fail(new Error(`${origin} ${error.code === 'ECONNREFUSED' ? 'refused the connection' : error.message}`)),
    );
    socket.once('connect', () => {
      const ms = performance.now() - started;
      socket.destroy();
      resolve(ms);
    });
  });
