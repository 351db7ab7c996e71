/**
 * Preloaded (--import) into every service process a test starts: when the test process that spawned
 * it is gone (a worker torn down after a timeout, a run killed), the service shuts down as on a
 * SIGTERM instead of living on as an orphan.
 */
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
}, 1000).unref();
