// The README's configuration reference: every environment variable of every long-running process,
// rendered from the zod schemas the processes parse their environment with (descriptions come from
// each variable's `.describe()`), so the table and the code cannot disagree (reference.test.ts).
import { configSchema as api } from '@eks-access/api/config';
import { configSchema as provisioner } from '@eks-access/provisioner/config';
import { renderEnvReference } from '@eks-access/runtime';
import { configSchema as syncWorker } from '@eks-access/sync-worker/config';
import { configSchema as uploader } from '@eks-access/uploader/config';
import { configSchema as watcher } from '@eks-access/watcher/config';

export const START =
  '<!-- config-reference:start (generated from the zod env schemas by `pnpm config:reference`; edit the schemas, not this) -->';
export const END = '<!-- config-reference:end -->';

const PROCESSES = [
  { title: 'API (`apps/api`, also its admin CLI: `DATABASE_URL`, `ENCRYPTION_KEY`)', schema: api },
  { title: 'Sync worker (`apps/sync-worker`)', schema: syncWorker },
  { title: 'Provisioner (`apps/provisioner`)', schema: provisioner },
  { title: 'Uploader (`apps/uploader`)', schema: uploader },
  { title: 'Watcher (`apps/watcher`)', schema: watcher },
];

/** The reference as Markdown, between the START and END markers. */
export function renderConfigReference(): string {
  const sections = PROCESSES.map(({ title, schema }) => `#### ${title}\n\n${renderEnvReference(schema)}`);
  return [START, '', ...sections.flatMap((s) => [s, '']), END].join('\n');
}

/** `readme` with its reference block replaced by `block`; throws when the markers are missing. */
export function withReference(readme: string, block: string): string {
  const from = readme.indexOf(START);
  const to = readme.indexOf(END);
  if (from < 0 || to < from) throw new Error(`README.md has no ${START} … ${END} block`);
  return readme.slice(0, from) + block + readme.slice(to + END.length);
}
