// Label and field selectors: the `labelSelector` / `fieldSelector` query syntax of list calls, and
// the structured LabelSelector (matchLabels + matchExpressions) that ClusterRole aggregation uses.
import { kubeErrors } from './status.js';
import type { KubeObject } from './store.js';

type Labels = Record<string, string> | undefined;

export type Requirement =
  { key: string; op: 'exists' | 'notexists' } | { key: string; op: 'in' | 'notin'; values: string[] };

const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A label key: `[prefix/]name`, name ≤ 63 characters, prefix a DNS subdomain. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  if (name.length === 0) return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!NAME_PART.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

/** A label value: empty, or ≤ 63 alphanumerics with '-', '_', '.' inside. */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!LABEL_VALUE.test(value)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

/** Splits on commas that are not inside `( … )`. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function parseRequirement(raw: string): Requirement {
  const text = raw.trim();
  const bad = (why: string) =>
    kubeErrors.badRequest(`unable to parse requirement: ${JSON.stringify(text)}: ${why}`);
  const checkKey = (key: string) => {
    const problem = labelKeyProblem(key);
    if (problem) throw bad(`invalid label key ${JSON.stringify(key)}: ${problem}`);
    return key;
  };
  const checkValue = (value: string) => {
    const problem = labelValueProblem(value);
    if (problem) throw bad(`invalid label value ${JSON.stringify(value)}: ${problem}`);
    return value;
  };
  if (text === '') throw bad('found an empty requirement');
  const set = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(text);
  if (set) {
    if (set[3]!.trim() === '') throw bad(`for '${set[2]}', the values set can't be empty`);
    const values = set[3]!.split(',').map((v) => v.trim());
    return { key: checkKey(set[1]!), op: set[2] as 'in' | 'notin', values: values.map(checkValue) };
  }
  if (text.startsWith('!')) return { key: checkKey(text.slice(1).trim()), op: 'notexists' };
  const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(text);
  if (cmp) {
    const key = checkKey(cmp[1]!);
    const value = checkValue(cmp[3]!);
    return { key, op: cmp[2] === '!=' ? 'notin' : 'in', values: [value] };
  }
  if (/^\S+$/.test(text)) return { key: checkKey(text), op: 'exists' };
  throw bad('expected one of =, ==, !=, in, notin, or a bare key');
}

/** Parses a `labelSelector` query value; a syntax error is a 400 BadRequest. */
export function parseLabelSelector(text: string): Requirement[] {
  if (text.trim() === '') return [];
  return splitTopLevel(text).map(parseRequirement);
}

/** Whether labels satisfy every requirement of a parsed selector. */
export function matchesRequirements(requirements: Requirement[], labels: Labels): boolean {
  for (const r of requirements) {
    const has = labels !== undefined && Object.hasOwn(labels, r.key);
    switch (r.op) {
      case 'exists':
        if (!has) return false;
        break;
      case 'notexists':
        if (has) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(labels[r.key]!)) return false;
        break;
      case 'notin':
        // `!=` and notin also select objects that lack the label, as in Kubernetes.
        if (has && r.values.includes(labels[r.key]!)) return false;
        break;
    }
  }
  return true;
}

export interface StructuredLabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Matches a structured LabelSelector; an empty selector matches everything, an invalid one nothing. */
export function matchesStructuredSelector(selector: StructuredLabelSelector, labels: Labels): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels?.[key] !== value) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = labels !== undefined && Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Parses a `fieldSelector`; only metadata.name (and metadata.namespace for namespaced kinds) are indexed. */
export function parseFieldSelector(text: string, namespaced: boolean): (obj: KubeObject) => boolean {
  if (text.trim() === '') return () => true;
  const tests = text.split(',').map((raw) => {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(raw);
    if (!m) throw kubeErrors.badRequest(`invalid selector: '${text}'; can't understand '${raw}'`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    const read =
      field === 'metadata.name'
        ? (o: KubeObject) => o.metadata.name
        : field === 'metadata.namespace' && namespaced
          ? (o: KubeObject) => o.metadata.namespace ?? ''
          : undefined;
    if (!read) throw kubeErrors.badRequest(`field label not supported: ${field}`);
    return op === '!=' ? (o: KubeObject) => read(o) !== value : (o: KubeObject) => read(o) === value;
  });
  return (obj) => tests.every((t) => t(obj));
}
