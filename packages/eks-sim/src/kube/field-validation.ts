// Server-side field validation (the `fieldValidation` query parameter of create, update and
// patch): a body field the schema does not know is never stored. `Strict` refuses the request
// with a 400 naming every unknown field, `Warn` (the default, and what kubectl sends unless told
// otherwise) drops them and says so in `Warning: 299` headers, `Ignore` drops them silently.
// Field paths are written as the API server writes them: `spec.foo`, `subjects[0].bar`.
import { message, type MessageSpec } from './schema.js';
import { kubeErrors } from './status.js';

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

const DIRECTIVES: readonly FieldValidation[] = ['Ignore', 'Warn', 'Strict'];

/** Reads `fieldValidation` (default Warn); anything else is a 400, as on the API server. */
export function fieldValidationOf(query: URLSearchParams): FieldValidation {
  const value = query.get('fieldValidation');
  if (value === null || value === '') return 'Warn';
  if (!(DIRECTIVES as readonly string[]).includes(value)) {
    throw kubeErrors.badRequest(
      `fieldValidation parameter unsupported: ${JSON.stringify(value)}; supported values: Ignore, Warn, Strict`,
    );
  }
  return value as FieldValidation;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Removes, in place, every member of `value` the message does not declare (recursively through
 * nested messages and lists of them) and returns their paths in document order. Values of the
 * wrong type are left for validation to report.
 */
export function pruneUnknownFields(spec: MessageSpec, value: unknown, path = ''): string[] {
  if (!isRecord(value)) return [];
  const found: string[] = [];
  for (const key of Object.keys(value)) {
    const fieldPath = path === '' ? key : `${path}.${key}`;
    const field = spec.fields.find((f) => f.name === key);
    if (!field) {
      found.push(fieldPath);
      delete value[key];
      continue;
    }
    if (!('ref' in field.type)) continue;
    const nested = message(field.type.ref);
    const member = value[key];
    if (field.repeated && Array.isArray(member)) {
      member.forEach((item, i) => found.push(...pruneUnknownFields(nested, item, `${fieldPath}[${i}]`)));
    } else if (!field.repeated) {
      found.push(...pruneUnknownFields(nested, member, fieldPath));
    }
  }
  return found;
}

/** JSON string syntax with every character outside printable ASCII escaped (header-safe). */
function asciiQuote(text: string): string {
  return JSON.stringify(text).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * `Warning` header values for dropped fields, in the API server's `299 - "<text>"` form. Field
 * names come from the request body, so anything a header cannot carry is escaped.
 */
export function unknownFieldWarnings(paths: string[]): string[] {
  return paths.map((p) => `299 - ${asciiQuote(`unknown field ${JSON.stringify(p)}`)}`);
}

/**
 * Drops unknown fields from `obj` (a body of kind `spec`) according to the directive and returns
 * the warnings to send; Strict with unknown fields throws the API server's 400.
 */
export function enforceFieldValidation(
  spec: MessageSpec,
  obj: unknown,
  directive: FieldValidation,
): string[] {
  const unknown = pruneUnknownFields(spec, obj);
  if (unknown.length === 0 || directive === 'Ignore') return [];
  if (directive === 'Strict') {
    const kind = spec.gvk?.kind ?? spec.id;
    const version = spec.gvk?.version ?? 'v1';
    const detail = unknown.map((p) => `unknown field ${JSON.stringify(p)}`).join(', ');
    throw kubeErrors.badRequest(
      `${kind} in version ${JSON.stringify(version)} cannot be handled as a ${kind}: strict decoding error: ${detail}`,
    );
  }
  return unknownFieldWarnings(unknown);
}
