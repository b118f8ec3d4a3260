// `eks-access sync`: one cluster, no Redis or Postgres. Prints the summary (or the report as JSON)
// and optionally writes the whole snapshot to a file.
import { action } from '@eks-access/cli-kit';
import { syncCluster, type Grant } from '@eks-access/eks-core';
import type { Command } from 'commander';
import { addTargetOptions, loadSyncConfig, type SyncCommandConfig, type SyncFlags } from '../config.js';
import { writeSnapshotFile } from '../output/snapshot-file.js';
import { formatSummary } from '../output/summary.js';
import { writeSyncC1z } from '../output/c1z-file.js';

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Adds `eks-access sync` to the program. */
export function syncCommand(program: Command, io: CommandIo, isTty: boolean): void {
  const command = program
    .command('sync')
    .summary('sync one EKS cluster and print who can reach it with what')
    .description(
      'Syncs one EKS cluster and prints who can reach it with what. Needs no Redis or Postgres. ' +
        "Flags (ours or baton-eks's names) win over the environment (C1's BATON_* names). Without static " +
        'keys the AWS default credential chain is used (AWS_PROFILE, AWS_ACCESS_KEY_ID, IRSA, Pod Identity).',
    );
  addTargetOptions(command)
    .option('-o, --output <table|json>', 'summary table or the report as JSON', 'table')
    .option('--out <file>', 'also write the whole snapshot as JSON to FILE')
    .option('-f, --file <file>', "also write the snapshot as a c1z file, C1's format (baton-eks: sync.c1z)")
    .option('--no-progress', 'no progress line on a terminal')
    .option('--concurrency <n>', 'parallel access-entry reads, 1 to 100', '10')
    .addHelpText(
      'after',
      '\nExit codes: 0 synced, 1 failed, 2 bad usage or configuration, 3 synced but a source could not be read.',
    )
    .action(action<SyncFlags>((flags, cmd) => runSync(loadSyncConfig(cmd, flags, isTty), io)));
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
    await writeSnapshotFile(
      config.outFile,
      sync,
      () => sync.finish(),
      (g) => grants.push(g),
    );
  } else {
    for await (const _ of sync.resources());
    for await (const _ of sync.entitlements());
    for await (const g of sync.grants()) grants.push(g);
  }
  const report = sync.finish();
  io.stdout(config.output === 'json' ? JSON.stringify(report, null, 2) : formatSummary(report, grants));
  if (config.c1zFile) io.stderr(`wrote ${config.c1zFile}\n`);
  if (report.status === 'partial') {
    const failed = Object.entries(report.sources)
      .filter(([, s]) => s.state === 'failed')
      .map(([n]) => n);
    io.stderr(
      `sync of ${report.cluster.name} is incomplete: ${failed.join(', ')} could not be read (see Sources)\n`,
    );
    return 3;
  }
  return 0;
}
