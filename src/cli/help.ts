import { VERSION } from '../version.ts';

export const HELP = `rxroute ${VERSION} — one URL for Vite, the Reflex backend and Django in development

Usage
  rxroute [options]            run the router
  rxroute dev [-- CMD ARGS…]   the router plus the app's processes (reflex run; Django's runserver in split_dev)
  rxroute routes [path…]       print the route table, or which upstream gets each path and why
  rxroute doctor               check config, port, upstreams and .web/env.json; print the Django settings to add
  rxroute demo                 run the router with built-in sample upstreams, nothing else needed
  rxroute export nginx|caddy   print an nginx server block or a Caddyfile for the same routes (split production)
  rxroute trust [--print]      add the local CA that --https uses to the system store and NSS (--print: only print the commands)
  rxroute --help | --version

Options
  -p, --port N            port to listen on (default 3000; env RXROUTE_PORT)
      --host HOST         address to bind (default 127.0.0.1; env RXROUTE_HOST)
      --frontend URL      Vite dev server (default http://127.0.0.1:3001; env RX_FRONTEND_URL)
      --backend URL       Reflex backend (default http://127.0.0.1:8000; env RX_BACKEND_URL)
      --django URL        separate Django server; implies profile split_dev (env RX_PROXY_SERVER)
      --profile NAME      integrated | split_dev | reflex_only
  -c, --config PATH       config file (default ./rxroute.json when present)
      --static DIR        serve an exported build from DIR instead of proxying Vite
      --allowed-host NAME extra Host name to accept (repeatable)
      --wait MS           how long a request waits for a restarting upstream (default 15000)
      --log pretty|json   console format (default pretty)
  -q, --quiet             no per-request lines
  -v, --verbose           show every request, including module and asset requests
      --https             serve TLS with HTTP/2 (ALPN) from a local CA (env RXROUTE_HTTPS)
      --cert FILE         your own PEM certificate for --https, e.g. mkcert's (env RXROUTE_CERT)
      --key FILE          its PEM private key (env RXROUTE_KEY)

Dev options (rxroute dev)
      --no-restart        a process that exits stops everything (exit code = its code) instead of restarting
      -- CMD ARGS…        run this one command instead of the detected processes

Export options (rxroute export nginx|caddy)
      --server-name NAME  server_name / Caddy site address (default: any name)
      --listen ADDR|PORT  address to listen on (default 80)
      --reflex URL        Reflex backend in production (default: the config's backend)
      --django URL        Django in production (default: the config's Django upstream)
      --static-root DIR   serve the exported frontend from DIR with SPA fallback instead of Django

Exit codes: 0 ok, 1 runtime failure (port in use), 2 usage or configuration error.
Docs: README.md and docs/ in the rxroute package.`;
