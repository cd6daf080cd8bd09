#!/usr/bin/env node
/**
 * The `cairnctl` executable: hands the process's arguments and streams to runCairnctl and sets
 * the exit code. Thin on purpose; everything testable lives in src/cli/.
 *
 * Must never: call process.exit while output may still be buffered.
 */
import { runCairnctl } from '../cli/main.js';
import { processIo } from '../cli/io.js';

const io = processIo();
process.exitCode = await runCairnctl(process.argv.slice(2), io);
// Long-running commands (watch, lock, keep-alive) leave stdin listeners; drop them so Node exits.
process.stdin.destroy();
// Interrupted (Ctrl-C): end as etcdctl does, by the signal, so the shell sees 130/143.
const signal = io.signal();
if (signal !== null) {
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
}
