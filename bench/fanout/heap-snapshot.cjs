// Preloaded (NODE_OPTIONS=--require) into the servers `pnpm bench:heap` measures: on SIGUSR2 it
// writes a heap snapshot (V8 collects garbage first, so it holds the live heap only) to
// $HEAP_SNAPSHOT_DIR/<pid>-<n>.heapsnapshot, then an empty <pid>-<n>.done beside it. Plain CommonJS
// so it loads into every process, with or without tsx; a process never signalled is unaffected.
const { writeHeapSnapshot } = require('node:v8');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.HEAP_SNAPSHOT_DIR;
if (dir) {
  let n = 0;
  process.on('SIGUSR2', () => {
    n++;
    const base = join(dir, `${process.pid}-${n}`);
    writeHeapSnapshot(`${base}.heapsnapshot`);
    writeFileSync(`${base}.done`, '');
  });
}
