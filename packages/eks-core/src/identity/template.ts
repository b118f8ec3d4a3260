// Username and group templates of aws-auth mappings and access entries. aws-iam-authenticator renders
// them per request from the STS identity, so a binding names one rendered value ("admin:alice"), never
// the template itself. Matching therefore runs the template as a pattern and reports what the
// placeholder had to be as a grant condition.
import type { GrantCondition } from '../model.js';

export const TEMPLATE_VARIABLES = [
  'SessionName',
  'SessionNameRaw',
  'AccountID',
  'EC2PrivateDNSName',
  'AccessKeyID',
] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

// What each placeholder can render to. Role session names are 2-64 of [\w+=,.@-]; the authenticator
// replaces '@' with '-' for {{SessionName}} and leaves it for {{SessionNameRaw}}.
type SessionVariable = Exclude<TemplateVariable, 'AccountID'>;

const VALUE_PATTERNS: Record<SessionVariable, string> = {
  SessionName: '[\\w+=,.-]{2,64}',
  SessionNameRaw: '[\\w+=,.@-]{2,64}',
  EC2PrivateDNSName: '[A-Za-z0-9.-]+',
  AccessKeyID: '[A-Z0-9]{16,128}',
};

function isTemplateVariable(name: string): name is TemplateVariable {
  return (TEMPLATE_VARIABLES as readonly string[]).includes(name);
}

/** Placeholders in a username or group: the ones aws-iam-authenticator renders and any others (kept literally). */
export function findTemplateVariables(text: string): { known: TemplateVariable[]; unknown: string[] } {
  const known = new Set<TemplateVariable>();
  const unknown = new Set<string>();
  for (const m of text.matchAll(PLACEHOLDER)) {
    const name = m[1] ?? '';
    if (isTemplateVariable(name)) known.add(name);
    else unknown.add(`{{${name}}}`);
  }
  return { known: [...known], unknown: [...unknown] };
}

/** True when the text contains a placeholder rendered per session (anything but {{AccountID}}). */
export function hasSessionTemplate(text: string): boolean {
  return findTemplateVariables(text).known.some((v) => v !== 'AccountID');
}

export interface CompiledTemplate {
  template: string;
  /** The value with {{AccountID}} filled in; equal to the only possible value when `literal`. */
  rendered: string;
  /** No per-session placeholder: only one rendered value exists. */
  literal: boolean;
  /** Conditions under which `name` is what the template renders to; undefined when it never is. */
  match(name: string): GrantCondition[] | undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Compiles a username/group template for one principal; `accountId` fills {{AccountID}}. */
export function compileTemplate(template: string, accountId: string): CompiledTemplate {
  const rendered = template.replaceAll('{{AccountID}}', accountId);
  const vars: SessionVariable[] = [];
  let source = '';
  let last = 0;
  for (const m of rendered.matchAll(PLACEHOLDER)) {
    const name = m[1] ?? '';
    source += escapeRegExp(rendered.slice(last, m.index));
    last = m.index + m[0].length;
    if (!isTemplateVariable(name) || name === 'AccountID') {
      source += escapeRegExp(m[0]);
      continue;
    }
    // A placeholder used twice renders the same value both times.
    if (vars.includes(name)) source += `\\k<${name}>`;
    else {
      vars.push(name);
      source += `(?<${name}>${VALUE_PATTERNS[name]})`;
    }
  }
  source += escapeRegExp(rendered.slice(last));
  if (vars.length === 0) {
    return { template, rendered, literal: true, match: (name) => (name === rendered ? [] : undefined) };
  }
  const pattern = new RegExp(`^${source}$`);
  return {
    template,
    rendered,
    literal: false,
    match(name) {
      const m = pattern.exec(name);
      if (!m?.groups) return undefined;
      const conditions: GrantCondition[] = [];
      for (const v of vars) {
        const value = m.groups[v] ?? '';
        switch (v) {
          case 'SessionName':
            conditions.push({ kind: 'session-name', value, raw: false });
            break;
          case 'SessionNameRaw':
            conditions.push({ kind: 'session-name', value, raw: true });
            break;
          case 'EC2PrivateDNSName':
            conditions.push({ kind: 'ec2-private-dns-name', value });
            break;
          case 'AccessKeyID':
            conditions.push({ kind: 'access-key-id', value });
            break;
        }
      }
      return conditions;
    },
  };
}
