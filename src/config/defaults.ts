import type { Config, Profile } from './schema.ts';

/** Values used when no flag, env var or config file sets a key (DESIGN §2). */
export const DEFAULTS: Omit<Config, 'profile'> = {
  port: 3000,
  host: '127.0.0.1',
  frontend: 'http://127.0.0.1:3001',
  backend: 'http://127.0.0.1:8000',
  proxy: { enabled: true, separate_dev_ports: false },
  django_prefix: ['/admin', '/api'],
  static_url: '/static/',
  media_url: '/media/',
  backend_path: '',
  frontend_path: '',
  routes: [],
  dev_proxy: true,
  serve_from_build: false,
  compile_dev: false,
  frontend_present: false,
  build_dir: '.web/build/client',
  allowed_hosts: [],
  wait_ms: 15000,
  https: false,
  log: 'pretty',
  verbose: false,
  quiet: false,
  dev: {},
};

/**
 * The profile when none is given: `split_dev` as soon as a separate Django
 * server is named (RX_PROXY_SERVER, --django, proxy.server), else `integrated`.
 */
export function defaultProfile(proxyServer: unknown): Profile {
  return proxyServer === undefined ? 'integrated' : 'split_dev';
}

/** Where Django-owned prefixes go in each profile; null when Django is not routed. */
export function djangoUpstream(config: Config): string | null {
  switch (config.profile) {
    case 'integrated':
      return config.backend;
    case 'split_dev':
      return config.proxy.server ?? null;
    case 'reflex_only':
      return null;
  }
}
