import net from 'node:net';

/** Whether something accepts TCP connections on 127.0.0.1:`port` right now. */
export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A loopback port nothing listens on right now, for a server that must come back on the same port. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/**
 * `n` different loopback ports nothing listens on right now. All are held
 * until the last is picked: two freePort() calls in a row can get the same
 * port back, since the first is released before the second is bound.
 */
export async function freePorts(n: number): Promise<number[]> {
  const probes = Array.from({ length: n }, () => net.createServer());
  await Promise.all(probes.map((probe) => new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))));
  const ports = probes.map((probe) => (probe.address() as net.AddressInfo).port);
  await Promise.all(probes.map((probe) => new Promise<void>((resolve) => probe.close(() => resolve()))));
  return ports;
}

/** Two different free loopback ports (see freePorts). */
export async function twoFreePorts(): Promise<[number, number]> {
  const [a, b] = await freePorts(2);
  return [a!, b!];
}
