/**
 * Entry of the single-file bundle that bench/gpu.sh builds (`pack`) and runs on a GPU machine
 * without Node.js or npm: `node bench.js preflight [...]` runs bench/gpu-preflight.ts, and
 * `node bench.js [...]` runs bench/run.ts with the same arguments. One bundle holds both, so
 * TF.js is packed once.
 */
if (process.argv[2] === 'preflight') {
  process.argv.splice(2, 1);
  require('./gpu-preflight');
} else {
  if (process.argv[2] === 'bench') process.argv.splice(2, 1);
  require('./run');
}
