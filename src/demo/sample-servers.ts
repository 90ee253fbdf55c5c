import type { RunningServer, Runtime } from '../runtime.ts';
import { sampleBackend } from './sample-backend.ts';
import { sampleDjango } from './sample-django.ts';
import { sampleFrontend } from './sample-frontend.ts';

export interface SampleServers {
  frontend: RunningServer;
  backend: RunningServer;
  django: RunningServer;
}

/** Starts the three sample upstreams on free loopback ports, with the runtime's own server. */
export async function startSampleServers(runtime: Pick<Runtime, 'serve'>): Promise<SampleServers> {
  const start = (app: { fetch: Parameters<Runtime['serve']>[0]['fetch'] }) =>
    runtime.serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  const [frontend, backend, django] = await Promise.all([
    start(sampleFrontend()),
    start(sampleBackend()),
    start(sampleDjango()),
  ]);
  return { frontend, backend, django };
}
