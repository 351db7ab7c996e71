// Container HEALTHCHECK: GET http://127.0.0.1:$PORT<path>, exit 0 on 2xx. Plain node, because the
// slim image has neither curl nor wget.
const path = process.argv[2] ?? '/health/live';
const port = process.env.PORT ?? '3000';
const ctrl = AbortSignal.timeout(2500);
fetch(`http://127.0.0.1:${port}${path}`, { signal: ctrl })
  .then((res) => process.exit(res.ok ? 0 : 1))
  .catch(() => process.exit(1));
