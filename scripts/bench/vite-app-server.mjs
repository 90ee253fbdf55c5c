// The page-load benchmark's Vite dev server, under Node as developers run it:
// `node vite-app-server.mjs APP_DIR PORT`. Prints one JSON line once ready.
import { createServer } from 'vite';

const [dir, port] = process.argv.slice(2);
const server = await createServer({
  root: dir,
  configFile: false,
  logLevel: 'silent',
  clearScreen: false,
  // Pre-bundled at start, so no first visit triggers a re-optimisation and a reload.
  optimizeDeps: { include: ['bigdep'] },
  server: { host: '127.0.0.1', port: Number(port), strictPort: true },
});
await server.listen();
console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` }));
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
