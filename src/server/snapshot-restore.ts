/**
 * The server's half of restoring a `/v3/maintenance/snapshot` file (`cairnctl snapshot restore`
 * writes the other half: the snapshot's data file as `member/snap/data.mdb` and the marker
 * `member/snap/restored.json`, in a data dir that did not exist).
 *
 * At the first start of such a data dir the member founds a NEW cluster from its
 * `--initial-cluster` flags, as a restored etcd member does: the key space keeps its revisions
 * and leases, but the store is detached from the old cluster's log (applied index 0, alarms of the
 * old members dropped), so the new founding log applies from index 1. The marker is removed last:
 * a crash before that repeats the (idempotent) detach; a crash after leaves a plain fresh data dir.
 *
 * Must never detach a store that already belongs to a cluster (identity.json present).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { MvccStore } from '../mvcc/store.js';
import { ALARM_TABLE_NAME } from './alarms.js';
import { DataDirError, memberDir, readIdentity } from './identity.js';

export const RESTORE_MARKER = 'restored.json';

export async function finishSnapshotRestore(dataDir: string, initialClusterState: 'new' | 'existing', logger: Logger): Promise<void> {
  const snapDir = join(memberDir(dataDir), 'snap');
  const marker = join(snapDir, RESTORE_MARKER);
  if (!existsSync(marker)) return;
  if (readIdentity(dataDir)) throw new DataDirError(`${marker} is left in a data dir that already belongs to a cluster; remove it if the member is healthy`);
  if (initialClusterState !== 'new') {
    throw new DataDirError(`data dir ${dataDir} was restored from a snapshot: start it with --initial-cluster-state new (a restored member founds a new cluster)`);
  }
  let from = '(unknown file)';
  try {
    from = String((JSON.parse(readFileSync(marker, 'utf8')) as { snapshot?: string }).snapshot ?? from);
  } catch {
    // The marker's content is informational only.
  }
  const store = MvccStore.open({ dir: snapDir });
  try {
    await store.detachFromLog([ALARM_TABLE_NAME]);
    logger.info({ snapshot: from, revision: store.currentRevision.toString() }, 'founding a new cluster from a restored snapshot');
  } finally {
    await store.close();
  }
  rmSync(marker);
}
