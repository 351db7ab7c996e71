import { fileURLToPath } from 'node:url';
import { createServer, type Plugin } from 'vite';
import { demoConfig } from './config.js';
import { devTokenPlugin } from './dev-token.js';

/**
 * `pnpm demo`: serves the demo club room against a running stack (`pnpm start`). The browser talks
 * to one origin: `/api/ledger/*`, `/api/presence/*` and the `/ws` socket are proxied to the
 * services (neither sends CORS headers, and one origin is how a real deployment looks behind its
 * gateway). Prints the URL.
 */
const cfg = demoConfig();

/**
 * Vite's dev client keeps its own socket and reloads the page when that socket comes back after a
 * lost network, which would hide the very catch-up the demo shows. The demo has no hot reload, so
 * the page is served without that client.
 */
function withoutViteClient(): Plugin {
  return {
    name: 'crowncast-demo-no-vite-client',
    transformIndexHtml: {
      order: 'post',
      handler: (html) => html.replace(/<script type="module" src="\/@vite\/client"><\/script>\s*/, ''),
    },
  };
}
const server = await createServer({
  configFile: false,
  root: fileURLToPath(new URL('..', import.meta.url)),
  logLevel: 'warn',
  plugins: [devTokenPlugin(cfg.JWT_SECRET), withoutViteClient()],
  server: {
    host: cfg.DEMO_HOST,
    port: cfg.DEMO_PORT,
    strictPort: cfg.DEMO_PORT !== 0,
    hmr: false,
    proxy: {
      '/api/ledger': { target: cfg.LEDGER_URL, rewrite: (p) => p.replace(/^\/api\/ledger/, '') },
      '/api/presence': { target: cfg.PRESENCE_URL, rewrite: (p) => p.replace(/^\/api\/presence/, '') },
      '/ws': { target: cfg.EDGE_URL, ws: true },
    },
  },
});
await server.listen();
const url = server.resolvedUrls?.local[0] ?? `http://${cfg.DEMO_HOST}:${cfg.DEMO_PORT}/`;
// One parseable line: the browser test reads the URL from it.
process.stdout.write(`Crowncast demo listening at ${url}\n`);
process.stdout.write(`  ledger ${cfg.LEDGER_URL}  edge ${cfg.EDGE_URL}  presence ${cfg.PRESENCE_URL}\n`);

const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
