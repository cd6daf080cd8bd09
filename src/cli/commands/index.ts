/**
 * Every cairnctl command, registered in etcdctl's order.
 *
 * Must never: hold command logic (each command lives in its own module).
 */
import type { Argv } from 'yargs';
import type { Select } from '../command.js';
import { registerKv } from './kv.js';
import { registerWatch } from './watch.js';
import { registerLease } from './lease.js';

export function registerAll(y: Argv, select: Select): Argv {
  registerKv(y, select);
  registerWatch(y, select);
  registerLease(y, select);
  return y;
}
