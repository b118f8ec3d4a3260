// The configuration reference, read from the zod env schemas themselves (each variable's
// `.describe()` text, its default, whether it is required), so the README's tables cannot drift
// from what the processes accept.
import { z } from 'zod';

export interface EnvVariable {
  name: string;
  required: boolean;
  /** The default as written in the docs, or undefined when there is none. */
  default: string | undefined;
  description: string;
}

interface Meta {
  description?: string;
  docDefault?: string;
}

function metaOf(schema: z.ZodType): Meta {
  return z.globalRegistry.get(schema) ?? {};
}

/** The object schema under refinements and transforms (`z.object(...).superRefine(...).transform(...)`). */
function objectOf(schema: z.ZodType): z.ZodObject {
  let s: z.ZodType = schema;
  for (let i = 0; i < 10; i++) {
    if (s instanceof z.ZodObject) return s;
    if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else throw new Error('not an object schema');
  }
  throw new Error('not an object schema');
}

function describeField(name: string, field: z.ZodType): EnvVariable {
  let description: string | undefined;
  let docDefault: string | undefined;
  let defaultValue: unknown;
  let hasDefault = false;
  let optional = false;
  // Walk the wrappers (default, optional, pipe) collecting what any level says.
  for (let s: z.ZodType | undefined = field, i = 0; s && i < 10; i++) {
    const meta = metaOf(s);
    description ??= meta.description;
    docDefault ??= meta.docDefault;
    if (s instanceof z.ZodDefault) {
      hasDefault = true;
      defaultValue = s.def.defaultValue;
      s = s.def.innerType as z.ZodType;
    } else if (s instanceof z.ZodOptional) {
      optional = true;
      s = s.def.innerType as z.ZodType;
    } else if (s instanceof z.ZodPipe) {
      s = s.in as z.ZodType;
    } else {
      s = undefined;
    }
  }
  if (!description) throw new Error(`${name} has no description: add .describe() to its schema`);
  const shown =
    docDefault ??
    (hasDefault
      ? `\`${typeof defaultValue === 'string' ? defaultValue : JSON.stringify(defaultValue)}\``
      : undefined);
  return { name, required: !hasDefault && !optional, default: shown, description };
}

/** Every variable `schema` reads, in declaration order. Throws for one without a description. */
export function envReference(schema: z.ZodType): EnvVariable[] {
  return Object.entries(objectOf(schema).shape).map(([name, field]) =>
    describeField(name, field as z.ZodType),
  );
}

/** A Markdown table of `envReference(schema)`. */
export function renderEnvReference(schema: z.ZodType): string {
  const rows = envReference(schema).map(
    (v) =>
      `| \`${v.name}\` | ${v.required ? '**required**' : (v.default ?? '(unset)')} | ${v.description.replace(/\|/g, '\\|')} |`,
  );
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
