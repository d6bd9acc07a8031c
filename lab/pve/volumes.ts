/**
 * Volume ids ↔ real files (`local:backup/vzdump-...` → `<storage dir>/dump/vzdump-...`).
 * `pvesm path <volid>` prints the real path, which is how code on the node should find a file
 * (the simulated storages do not live under /var/lib/vz).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ToolError } from './cli';
import { type ClusterState, type StorageState, findStorage } from './model';
import { BACKUP_FILE_RE, dumpDir } from './archive';

export interface ResolvedVolume {
  readonly volid?: string;
  readonly storage?: StorageState;
  readonly path: string;
  readonly filename: string;
}

export function resolveBackupVolume(state: ClusterState, node: string, spec: string): ResolvedVolume {
  if (spec.startsWith('/')) return { path: spec, filename: path.basename(spec) };
  const m = /^([a-zA-Z][a-zA-Z0-9\-_.]*[a-zA-Z0-9]):(.+)$/.exec(spec);
  if (!m) throw new ToolError(`unable to parse volume ID '${spec}'`);
  const storage = findStorage(state, node, m[1]!);
  if (!storage) throw new ToolError(`storage '${m[1]}' does not exist`);
  const vm = /^backup\/([^/]+)$/.exec(m[2]!);
  if (!vm || !BACKUP_FILE_RE.test(vm[1]!)) throw new ToolError(`unable to parse volume ID '${spec}'`);
  return { volid: spec, storage, path: path.join(dumpDir(storage), vm[1]!), filename: vm[1]! };
}

export function requireFile(v: ResolvedVolume, label: string): void {
  if (!fs.existsSync(v.path)) throw new ToolError(`can't find file '${label}'`);
}
