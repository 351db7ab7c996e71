/**
 * Preloaded (--import) into every service process a test starts: when the test process that spawned
 * it is gone (a worker torn down after a timeout, a run killed), the service shuts down as on a
 * SIGTERM instead of living on as an orphan.
 *
 * The spawner passes its pid in CROWNCAST_PARENT_PID: reading process.ppid here instead missed a
 * parent that died while this process was still loading (a test failing in its first second), which
 * left a ledger polling PostgreSQL for hours.
 */
const parent = Number(process.env.CROWNCAST_PARENT_PID) || process.ppid;
const check = () => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
};
check();
setInterval(check, 1000).unref();
