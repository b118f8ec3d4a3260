// Text edits of one aws-auth key (`mapRoles` or `mapUsers`). A broken aws-auth can lock everyone
// out of a cluster, and other tools (eksctl, Terraform, GitOps) own most of its entries, so an edit
// touches only the bytes of the entry it adds or owns: a new entry is spliced in after the last
// one, an owned entry is re-rendered in place, and everything else stays byte for byte. Only a flow
// list (`[...]`) is re-rendered as a whole. Every edit is checked by parsing the result the way the
// authenticator does and comparing all other entries with what they were.
import { Document, isMap, isScalar, isSeq, parseDocument, stringify, type Pair } from 'yaml';
import { EksAccessError } from '../errors.js';
import { parseAwsAuth, type AwsAuthMapping } from '../identity/aws-auth.js';

export type AwsAuthListKey = 'mapRoles' | 'mapUsers';

// The failsafe schema keeps every scalar as written (`0123` stays `0123`), as Go decodes into strings.
const PARSE = { schema: 'failsafe', uniqueKeys: false } as const;
const RENDER = { lineWidth: 0 } as const;

function refused(key: AwsAuthListKey, why: string): EksAccessError {
  return new EksAccessError(
    'PROVISIONING_REFUSED',
    `kube-system/aws-auth ${key} ${why}; it was left untouched (fix it first: a malformed aws-auth can lock users out of the cluster)`,
  );
}

// The values aws-iam-authenticator reads as "no entries".
function isEmptyList(text: string | undefined): boolean {
  const t = text?.trim() ?? '';
  return t === '' || t === '""' || t === '``' || t === '[]';
}

function lineStart(text: string, at: number): number {
  return text.lastIndexOf('\n', at - 1) + 1;
}

/** Renders `- <map>` with the dash at column `indent` (the map's own lines two further in). */
function asItem(rendered: string, indent: string): string {
  const lines = rendered.replace(/\n$/, '').split('\n');
  return `${indent}- ${lines[0] ?? ''}\n${lines
    .slice(1)
    .map((l) => `${indent}  ${l}\n`)
    .join('')}`;
}

function parseList(key: AwsAuthListKey, text: string): Document.Parsed {
  const doc = parseDocument(text, PARSE);
  if (doc.errors.length > 0)
    throw refused(key, `does not parse as YAML (${doc.errors[0]?.message.split('\n')[0] ?? 'error'})`);
  if (doc.contents !== null && !isSeq(doc.contents)) throw refused(key, 'is not a YAML list');
  return doc;
}

/** Returns `text` with `entry` appended as the last item of the list. */
export function appendMapping(
  key: AwsAuthListKey,
  text: string | undefined,
  entry: Record<string, unknown>,
): string {
  const rendered = stringify(entry, RENDER);
  if (text === undefined || isEmptyList(text)) return asItem(rendered, '');
  const doc = parseList(key, text);
  const seq = doc.contents;
  if (seq === null) return `${text}${text.endsWith('\n') ? '' : '\n'}${asItem(rendered, '')}`;
  if (!isSeq(seq)) throw refused(key, 'is not a YAML list');
  const start = seq.range?.[0];
  const end = seq.range?.[2];
  const indent = start === undefined ? undefined : text.slice(lineStart(text, start), start);
  if (seq.flow || start === undefined || end === undefined || indent === undefined || !/^ *$/.test(indent)) {
    seq.flow = false;
    (seq.items as unknown[]).push(doc.createNode(entry));
    return doc.toString(RENDER);
  }
  const head = text.slice(0, end);
  return `${head}${head.endsWith('\n') ? '' : '\n'}${asItem(rendered, indent)}${text.slice(end)}`;
}

function groupsPair(item: { items: Pair[] }): Pair | undefined {
  return item.items.find((p) => isScalar(p.key) && String(p.key.value).toLowerCase() === 'groups');
}

/** Returns `text` with `group` added to the groups of the item at `index` (an entry the connector owns). */
export function addGroupToMapping(key: AwsAuthListKey, text: string, index: number, group: string): string {
  const doc = parseList(key, text);
  const seq = doc.contents;
  const item = isSeq(seq) ? seq.items[index] : undefined;
  if (!isSeq(seq) || !isMap(item)) throw refused(key, `has no mapping at position ${index}`);
  const pair = groupsPair(item);
  if (!pair) item.items.push(doc.createPair('groups', [group]));
  else if (isSeq(pair.value)) pair.value.items.push(doc.createNode(group));
  else if (
    pair.value === null ||
    (isScalar(pair.value) && (pair.value.value === '' || pair.value.value === null))
  )
    pair.value = doc.createNode([group]);
  else throw refused(key, `entry #${index} has groups that are not a list`);

  const start = item.range?.[0];
  const end = item.range?.[2];
  if (seq.flow || item.flow || start === undefined || end === undefined) return doc.toString(RENDER);
  const column = start - lineStart(text, start);
  const lines = new Document(item, PARSE).toString(RENDER).replace(/\n$/, '').split('\n');
  const replaced = lines.map((l, i) => (i === 0 ? l : `${' '.repeat(column)}${l}`)).join('\n');
  return `${text.slice(0, start)}${replaced}${text.slice(start, end).endsWith('\n') ? '\n' : ''}${text.slice(end)}`;
}

function comparable(m: AwsAuthMapping): string {
  return JSON.stringify(m);
}

/**
 * Throws unless `after` reads, for the authenticator, exactly as `before` except for the entry at
 * `changedIndex` (an edit) or one new last entry (an append), and adds no parse problem.
 */
export function assertOnlyEntryChanged(
  key: AwsAuthListKey,
  before: string | undefined,
  after: string,
  changedIndex: number | 'appended',
): void {
  const a = parseAwsAuth(before === undefined ? {} : { [key]: before });
  const b = parseAwsAuth({ [key]: after });
  const fail = (why: string) =>
    new EksAccessError(
      'INTERNAL',
      `refusing to write kube-system/aws-auth ${key}: the edit ${why}; this is a bug in the connector's aws-auth editor`,
    );
  const problems = (r: typeof a) => new Set(r.problems.map((p) => `${p.index ?? ''}:${p.message}`));
  const oldProblems = problems(a);
  const newProblem = [...problems(b)].find(
    (p) =>
      !oldProblems.has(p) &&
      !p.startsWith(`${changedIndex === 'appended' ? a.mappings.length : changedIndex}:`),
  );
  if (newProblem) throw fail(`introduces a problem (${newProblem})`);
  const expectedCount = a.mappings.length + (changedIndex === 'appended' ? 1 : 0);
  if (b.mappings.length !== expectedCount)
    throw fail(`changes the number of entries from ${a.mappings.length} to ${b.mappings.length}`);
  for (const [i, m] of a.mappings.entries()) {
    if (m.index === changedIndex) continue;
    const other = b.mappings[i];
    if (!other || comparable(other) !== comparable(m)) throw fail(`changes entry #${m.index}`);
  }
}
