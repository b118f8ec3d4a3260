// `eks-access sync`: one cluster, no Redis or Postgres. Prints the summary (or the report as JSON)
// and optionally writes the whole snapshot to a file.
import { syncCluster, type Grant } from '@eks-access/eks-core';
import type { SyncCommandConfig } from '../config.js';
import { writeSnapshotFile } from '../output/snapshot-file.js';
import { formatSummary } from '../output/summary.js';
import { writeSyncC1z } from '../output/c1z-file.js';

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Runs one sync and returns the process exit code (0 complete, 3 partial). */
export async function runSync(config: SyncCommandConfig, io: CommandIo): Promise<number> {
  let lastProgress = 0;
  const sync = await syncCluster({
    cluster: { name: config.target.clusterName, region: config.target.region },
    credentials: config.target.credentials,
    endpoints: config.endpoints,
    accessEntryConcurrency: config.accessEntryConcurrency,
    ...(config.progress
      ? {
          onProgress: (e) => {
            const now = Date.now();
            if (now - lastProgress < 200) return;
            lastProgress = now;
            io.stderr(`\r\x1b[K${e.source}: ${e.done}${e.total ? `/${e.total}` : ''}`);
          },
        }
      : {}),
  });
  if (config.progress) io.stderr('\r\x1b[K');
  let grants: Grant[] = [];
  if (config.c1zFile) {
    grants = (await writeSyncC1z(config.c1zFile, sync)).grants;
  } else if (config.outFile) {
    await writeSnapshotFile(config.outFile, sync, () => sync.finish(), (g) => grants.push(g));
  } else {
    for await (const _ of sync.resources());
    for await (const _ of sync.entitlements());
    for await (const g of sync.grants()) grants.push(g);
  }
  const report = sync.finish();
  io.stdout(config.output === 'json' ? JSON.stringify(report, null, 2) : formatSummary(report, grants));
  if (config.c1zFile) io.stderr(`wrote ${config.c1zFile}\n`);
  if (report.status === 'partial') {
    const failed = Object.entries(report.sources).filter(([, s]) => s.state === 'failed').map(([n]) => n);
    io.stderr(`sync of ${report.cluster.name} is incomplete: ${failed.join(', ')} could not be read (see Sources)\n`);
    return 3;
  }
  return 0;
}
