// `eks-access register-clusters --file fleet.yaml`: registers a fleet through the API's
// PUT /v1/clusters/bulk, which is idempotent by (name, region, account), so running it again with
// the same file creates nothing and reports every cluster unchanged. The file (YAML or JSON) is a
// list of cluster registrations as POST /v1/clusters takes them, or `{ clusters: [...] }`. It goes
// in batches (a batch that meets a 503 is sent again after its Retry-After: the route is
// idempotent); every item is reported with its outcome and invalid ones with their problems. This
// CLI needs no Postgres or Redis: the API checks and stores everything, secrets included, and
// nothing here prints a secret.
import { readFile } from 'node:fs/promises';
import { action, UsageError } from '@eks-access/cli-kit';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { env } from '../config.js';
import type { CommandIo } from './sync.js';

/** What the API answers for one item (PUT /v1/clusters/bulk, `ClusterBulkResult.items`). */
export interface BulkItem {
  index: number;
  status: 'created' | 'updated' | 'unchanged' | 'invalid';
  name?: string;
  region?: string;
  accountId?: string | null;
  id?: string;
  changed?: string[];
  problems?: { path: string; message: string }[];
}

export interface RegisterClustersConfig {
  file: string;
  apiUrl: string;
  apiKey: string;
  batchSize: number;
  output: 'table' | 'json';
  /** Times a batch answered 503 is sent again (after its Retry-After). */
  maxRetries: number;
}

interface RegisterClustersFlags {
  file?: string;
  apiUrl?: string;
  apiKey?: string;
  batchSize: string;
  output: string;
}

const MAX_BATCH = 1000;
const MAX_RETRY_WAIT_S = 60;

/** Adds `eks-access register-clusters` to the program. */
export function registerClustersCommand(program: Command, io: CommandIo): void {
  program
    .command('register-clusters')
    .summary('register (or update) every cluster of a YAML or JSON file through the API; idempotent')
    .description(
      'Registers every cluster a YAML or JSON file lists, through the API (PUT /v1/clusters/bulk). The file ' +
        'is a list of registrations as POST /v1/clusters takes them (name, region, roleArn, externalId, ' +
        'schedule, labels…), or an object with that list as `clusters`. Clusters are matched by name, region ' +
        'and AWS account (accountId, or the role ARN’s): running the same file again creates nothing. A field ' +
        'left out of an item is left as it is. Each item is reported created, updated (with what changed), ' +
        'unchanged or invalid (with its problems).',
    )
    .option('-f, --file <path>', 'the YAML or JSON file of clusters')
    .option('--api-url <url>', 'the API (EKS_ACCESS_API_URL; default http://127.0.0.1:8080)')
    .option('--api-key <key>', 'an API key with the admin scope (EKS_ACCESS_API_KEY)')
    .option('--batch-size <n>', `clusters per request, 1 to ${MAX_BATCH}`, '500')
    .option('-o, --output <table|json>', 'a line per cluster, or the outcomes as JSON', 'table')
    .addHelpText(
      'after',
      '\nExit codes: 0 every cluster registered or unchanged, 1 some were invalid or a request failed ' +
        '(running the file again is safe), 2 bad usage or an unreadable file.',
    )
    .action(
      action<RegisterClustersFlags>((flags) => runRegisterClusters(loadRegisterClustersConfig(flags), io)),
    );
}

/** The command's settings from its flags and the environment, or a UsageError naming what to fix. */
export function loadRegisterClustersConfig(flags: RegisterClustersFlags): RegisterClustersConfig {
  const problems: string[] = [];
  if (!flags.file) problems.push('--file: give the YAML or JSON file of clusters');
  const apiKey = flags.apiKey ?? env('EKS_ACCESS_API_KEY');
  if (!apiKey) problems.push('--api-key or EKS_ACCESS_API_KEY: an API key with the admin scope is needed');
  const apiUrl = (flags.apiUrl ?? env('EKS_ACCESS_API_URL') ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s]+$/.test(apiUrl)) problems.push(`--api-url: "${apiUrl}" is not an http(s) URL`);
  const batchSize = Number(flags.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH)
    problems.push(`--batch-size: must be a whole number from 1 to ${MAX_BATCH}, not "${flags.batchSize}"`);
  if (flags.output !== 'table' && flags.output !== 'json')
    problems.push(`--output: table or json, not "${flags.output}"`);
  if (problems.length > 0) throw new UsageError(problems.join('; '), true);
  return {
    file: flags.file!,
    apiUrl,
    apiKey: apiKey!,
    batchSize,
    output: flags.output as 'table' | 'json',
    maxRetries: 5,
  };
}

/** The cluster list of a fleet file: a YAML or JSON list, or `{ clusters: [...] }`. */
export function parseFleetFile(text: string, file: string): unknown[] {
  let data: unknown;
  try {
    // YAML 1.2 reads JSON too, so one parser serves both formats.
    data = parseYaml(text);
  } catch (err) {
    throw new UsageError(`${file}: not YAML or JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const list = Array.isArray(data)
    ? data
    : data && typeof data === 'object' && Array.isArray((data as { clusters?: unknown }).clusters)
      ? (data as { clusters: unknown[] }).clusters
      : undefined;
  if (!list)
    throw new UsageError(`${file}: expected a list of clusters, or an object with a "clusters" list`);
  if (list.length === 0) throw new UsageError(`${file}: the list of clusters is empty`);
  return list;
}

/** Registers the file's clusters; exit code 0 when none is invalid. */
export async function runRegisterClusters(config: RegisterClustersConfig, io: CommandIo): Promise<number> {
  let text: string;
  try {
    text = await readFile(config.file, 'utf8');
  } catch (err) {
    throw new UsageError(`${config.file}: ${(err as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
  }
  const clusters = parseFleetFile(text, config.file);
  const outcomes: BulkItem[] = [];
  for (let start = 0; start < clusters.length; start += config.batchSize) {
    const batch = clusters.slice(start, start + config.batchSize);
    let items: BulkItem[];
    try {
      items = await sendBatch(config, batch);
    } catch (err) {
      io.stderr(
        `${err instanceof Error ? err.message : String(err)} (clusters ${start}-${start + batch.length - 1} of ` +
          `${clusters.length}; ${outcomes.length} done before; running the file again is safe)\n`,
      );
      report(config, io, outcomes);
      return 1;
    }
    // The API numbers items within the request; the file's position is what the user can find.
    outcomes.push(...items.map((item) => ({ ...item, index: item.index + start })));
  }
  return report(config, io, outcomes) > 0 ? 1 : 0;
}

/** Sends one batch, again after Retry-After while the API answers 503; throws on any other failure. */
async function sendBatch(config: RegisterClustersConfig, batch: unknown[]): Promise<BulkItem[]> {
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(`${config.apiUrl}/v1/clusters/bulk`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${config.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ clusters: batch }),
        signal: AbortSignal.timeout(120_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new Error(`cannot reach the API at ${config.apiUrl}${cause ? ` (${cause})` : ''}`);
    }
    const body = (await res.json().catch(() => undefined)) as
      { items?: BulkItem[]; error?: { code?: string; message?: string } } | undefined;
    if (res.ok && Array.isArray(body?.items)) return body.items;
    if (res.status === 503 && attempt < config.maxRetries) {
      const retryAfter = Number(res.headers.get('retry-after'));
      const waitS =
        Number.isFinite(retryAfter) && retryAfter >= 0 ? Math.min(retryAfter, MAX_RETRY_WAIT_S) : 5;
      await new Promise((r) => setTimeout(r, waitS * 1000));
      continue;
    }
    const error = body?.error;
    throw new Error(
      `the API answered ${res.status}${error ? ` ${error.code ?? ''}: ${error.message ?? ''}` : ''}`.trim(),
    );
  }
}

/** Prints the outcomes; returns how many items were invalid. */
function report(config: RegisterClustersConfig, io: CommandIo, outcomes: BulkItem[]): number {
  const summary = { created: 0, updated: 0, unchanged: 0, invalid: 0 };
  for (const o of outcomes) summary[o.status]++;
  if (config.output === 'json') {
    io.stdout(JSON.stringify({ summary, items: outcomes }, null, 2));
    return summary.invalid;
  }
  const lines = outcomes.map((o) => {
    const who = `${o.name ?? '?'} ${o.region ?? '?'}${o.accountId ? ` ${o.accountId}` : ''}`;
    const what =
      o.status === 'invalid'
        ? (o.problems ?? []).map((p) => `${p.path}: ${p.message}`).join('; ')
        : o.status === 'updated'
          ? `changed: ${(o.changed ?? []).join(', ')}`
          : (o.id ?? '');
    return `#${o.index} ${o.status.padEnd(9)} ${who}  ${what}`;
  });
  lines.push(
    `${outcomes.length} clusters: ${summary.created} created, ${summary.updated} updated, ` +
      `${summary.unchanged} unchanged, ${summary.invalid} invalid`,
  );
  io.stdout(lines.join('\n'));
  return summary.invalid;
}
