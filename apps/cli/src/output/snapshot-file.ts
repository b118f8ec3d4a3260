// Writes a snapshot as one JSON document without holding it in memory: the arrays are streamed
// item by item into a temporary file that is renamed into place at the end (no half-written file
// is ever left under the requested name).
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Entitlement, Grant, Resource, ResourceType } from '@eks-access/eks-core';

export interface SnapshotSource {
  resourceTypes: ResourceType[];
  resources(): AsyncIterable<Resource>;
  entitlements(): AsyncIterable<Entitlement>;
  grants(): AsyncIterable<Grant>;
}

/** Streams the snapshot to `path` as JSON; `onGrant` sees every grant on the way (for summaries). */
export async function writeSnapshotFile(
  path: string,
  snapshot: SnapshotSource,
  report: () => unknown,
  onGrant?: (g: Grant) => void,
): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const out = createWriteStream(tmp, { encoding: 'utf8' });
  const write = async (chunk: string) => {
    if (!out.write(chunk)) await once(out, 'drain');
  };
  try {
    await write(`{"resourceTypes":${JSON.stringify(snapshot.resourceTypes)}`);
    for (const [name, stream] of [
      ['resources', snapshot.resources()],
      ['entitlements', snapshot.entitlements()],
      ['grants', snapshot.grants()],
    ] as const) {
      await write(`,\n"${name}":[`);
      let first = true;
      for await (const item of stream as AsyncIterable<Resource | Entitlement | Grant>) {
        if (name === 'grants') onGrant?.(item as Grant);
        await write(`${first ? '\n' : ',\n'}${JSON.stringify(item)}`);
        first = false;
      }
      await write(']');
    }
    await write(`,\n"report":${JSON.stringify(report())}}\n`);
    out.end();
    await once(out, 'finish');
    await rename(tmp, path);
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
}
