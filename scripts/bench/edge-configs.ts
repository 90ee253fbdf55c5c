import { nginxTempPaths } from '../../test/_helpers/nginx.ts';

// The configs nginx and Caddy get in the bench: each sends every path to the
// one upstream, set up the way a production edge in front of a streaming app
// is (no buffering, upstream keep-alive, WebSocket upgrades), and writes
// everything it needs under `dir` so it runs from a scratch directory.

/** nginx as a tuned reverse proxy: one worker, upstream keep-alive, nothing buffered, no access log. */
export function nginxConf(dir: string, port: number, upstream: URL): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
${nginxTempPaths(dir)}
    # The defaults (1000) would close client and upstream connections mid-run.
    keepalive_requests 1000000;

    upstream bench_upstream {
        server ${upstream.host};
        keepalive 64;
        keepalive_requests 1000000;
    }

    # "Connection: upgrade" for WebSocket handshakes; otherwise no Connection
    # header, so the upstream connection stays in the keep-alive pool.
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      '';
    }

    server {
        listen 127.0.0.1:${port};
        client_max_body_size 0;
        # Unbuffered, nginx moves at most one buffer per read: 64 KiB like the
        # other contenders' chunks, not the 4-16 KiB defaults (which cut the
        # 64 KiB GET rate about threefold and uploads by a third).
        client_body_buffer_size 64k;
        location / {
            proxy_pass http://bench_upstream;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_buffer_size 64k;
            # Unused while unbuffered, but nginx checks they can hold the busy buffers.
            proxy_buffers 4 64k;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }
    }
}
`;
}

/** Caddy's reverse_proxy flushing every write, plain HTTP on loopback, no admin endpoint, no ACME. */
export function caddyfile(dir: string, port: number, upstream: URL): string {
  return `{
\tadmin off
\tauto_https off
\tstorage file_system ${dir}/data
}

http://:${port} {
\tbind 127.0.0.1
\treverse_proxy ${upstream.host} {
\t\tflush_interval -1
\t}
}
`;
}
