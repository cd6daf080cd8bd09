/**
 * Entry of a load-generator process: reads a LoadSpec (JSON) from argv[2], runs it, and prints
 * one line `LOADGEN_RESULT {json}` on stdout.
 *
 * Owns nothing else. Must never be imported by the runner (it would then share its process).
 */
import { runLoad, type LoadSpec } from './loadgen.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
runLoad(spec).then(
  (result) => {
    process.stdout.write(`LOADGEN_RESULT ${JSON.stringify(result)}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`loadgen failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
