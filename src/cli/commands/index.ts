/**
 * Every cairnctl command, registered in etcdctl's order.
 *
 * Must never: hold command logic (each command lives in its own module).
 */
import type { Argv } from 'yargs';
import type { Select } from '../command.js';
import { registerKv } from './kv.js';
import { registerWatch } from './watch.js';
import { registerTxn } from './txn.js';
import { registerLease } from './lease.js';
import { registerMember } from './member.js';
import { registerEndpoint } from './endpoint.js';
import { registerMaintenance } from './maintenance.js';
import { registerLockElect } from './lock.js';
import { registerSnapshot } from './snapshot.js';
import { registerAuth } from './auth.js';
import { registerCheck } from './check.js';
import { registerCompletion } from './completion.js';

export function registerAll(y: Argv, select: Select): Argv {
  registerKv(y, select);
  registerTxn(y, select);
  registerWatch(y, select);
  registerLease(y, select);
  registerMember(y, select);
  registerEndpoint(y, select);
  registerMaintenance(y, select);
  registerSnapshot(y, select);
  registerLockElect(y, select);
  registerAuth(y, select);
  registerCheck(y, select);
  registerCompletion(y, select);
  return y;
}
