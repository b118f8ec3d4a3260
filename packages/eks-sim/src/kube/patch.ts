// The two standard patch formats the API server accepts: JSON Merge Patch (RFC 7386) and JSON
// Patch (RFC 6902). Both work on a copy, so a failing patch leaves the stored object untouched.
// Errors say whether the patch could not be read (the server answers 400) or could not be applied
// to this object (422, which is also what a failed `test` operation gets).

export class PatchError extends Error {
  constructor(
    /** 'decode': malformed patch document; 'apply': well-formed but does not apply. */
    readonly kind: 'decode' | 'apply',
    message: string,
  ) {
    super(message);
    this.name = 'PatchError';
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7386: objects merge recursively, `null` deletes a member, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
    );
  }
  return false;
}

/** Splits an RFC 6901 JSON Pointer into unescaped tokens ('' is the whole document). */
function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) {
    throw new PatchError('decode', `JSON pointer ${JSON.stringify(pointer)} must start with '/'`);
  }
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function arrayIndex(token: string, length: number, allowEnd: boolean, path: string): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) {
    throw new PatchError('apply', `invalid array index ${JSON.stringify(token)} in ${path}`);
  }
  const index = Number(token);
  if (index > length || (!allowEnd && index === length)) {
    throw new PatchError('apply', `array index ${index} out of bounds in ${path}`);
  }
  return index;
}

interface Location {
  parent: Record<string, unknown> | unknown[];
  token: string;
}

/** Resolves the container of the value a pointer names; the container itself must exist. */
function locate(doc: unknown, tokens: string[], path: string): Location {
  let node = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(token, node.length, false, path)];
    else if (isObject(node) && Object.hasOwn(node, token)) node = node[token];
    else throw new PatchError('apply', `doc is missing path: ${JSON.stringify(path)}`);
  }
  if (!Array.isArray(node) && !isObject(node)) {
    throw new PatchError('apply', `doc is missing path: ${JSON.stringify(path)}`);
  }
  return { parent: node, token: tokens[tokens.length - 1]! };
}

function read(doc: unknown, path: string): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return doc;
  const { parent, token } = locate(doc, tokens, path);
  if (Array.isArray(parent)) return parent[arrayIndex(token, parent.length, false, path)];
  if (!Object.hasOwn(parent, token)) {
    throw new PatchError('apply', `doc is missing path: ${JSON.stringify(path)}`);
  }
  return parent[token];
}

interface Box {
  doc: unknown;
}

function add(box: Box, path: string, value: unknown): void {
  const tokens = parsePointer(path);
  if (tokens.length === 0) {
    box.doc = value;
    return;
  }
  const { parent, token } = locate(box.doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(token, parent.length, true, path), 0, value);
  else parent[token] = value;
}

function remove(box: Box, path: string): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) throw new PatchError('apply', 'cannot remove the whole document');
  const { parent, token } = locate(box.doc, tokens, path);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(token, parent.length, false, path), 1)[0];
  if (!Object.hasOwn(parent, token)) {
    throw new PatchError('apply', `unable to remove nonexistent key: ${token}: missing value`);
  }
  const value = parent[token];
  delete parent[token];
  return value;
}

function replace(box: Box, path: string, value: unknown): void {
  const tokens = parsePointer(path);
  if (tokens.length === 0) {
    box.doc = value;
    return;
  }
  const { parent, token } = locate(box.doc, tokens, path);
  if (Array.isArray(parent)) parent[arrayIndex(token, parent.length, false, path)] = value;
  else if (!Object.hasOwn(parent, token)) {
    throw new PatchError(
      'apply',
      `replace operation does not apply: doc is missing key: ${path}: missing value`,
    );
  } else parent[token] = value;
}

interface Operation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: Json;
  hasValue: boolean;
}

function decodeOperations(patch: unknown): Operation[] {
  if (!Array.isArray(patch)) {
    throw new PatchError('decode', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  }
  return patch.map((raw, i) => {
    if (!isObject(raw)) throw new PatchError('decode', `operation ${i} is not an object`);
    const { op, path, from } = raw;
    if (typeof op !== 'string' || !['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(op)) {
      throw new PatchError('decode', `Unexpected kind: ${String(op)}`);
    }
    if (typeof path !== 'string') throw new PatchError('decode', `operation ${i} (${op}) is missing path`);
    const hasValue = Object.hasOwn(raw, 'value');
    if ((op === 'add' || op === 'replace' || op === 'test') && !hasValue) {
      throw new PatchError('decode', `operation ${i} (${op}) is missing value`);
    }
    if ((op === 'move' || op === 'copy') && typeof from !== 'string') {
      throw new PatchError('decode', `operation ${i} (${op}) is missing from`);
    }
    parsePointer(path);
    if (typeof from === 'string') parsePointer(from);
    return {
      op: op as Operation['op'],
      path,
      ...(typeof from === 'string' ? { from } : {}),
      value: raw.value as Json,
      hasValue,
    };
  });
}

/** RFC 6902: applies every operation in order, or none of them. */
export function applyJsonPatch(doc: unknown, patch: unknown): unknown {
  const operations = decodeOperations(patch);
  const box: Box = { doc: structuredClone(doc) };
  for (const operation of operations) {
    const { op, path } = operation;
    switch (op) {
      case 'add':
        add(box, path, structuredClone(operation.value));
        break;
      case 'remove':
        remove(box, path);
        break;
      case 'replace':
        replace(box, path, structuredClone(operation.value));
        break;
      case 'move': {
        const from = operation.from!;
        if (path !== from && path.startsWith(`${from}/`)) {
          throw new PatchError('apply', `cannot move ${from} into its own child ${path}`);
        }
        add(box, path, remove(box, from));
        break;
      }
      case 'copy':
        add(box, path, structuredClone(read(box.doc, operation.from!)));
        break;
      case 'test': {
        let actual: unknown;
        try {
          actual = read(box.doc, path);
        } catch {
          actual = undefined;
        }
        // A test for null also passes for an absent member, as the API server's patch library has it.
        const passes = actual === undefined ? operation.value === null : deepEqual(actual, operation.value);
        if (!passes) throw new PatchError('apply', `testing value ${path} failed: test failed`);
        break;
      }
    }
  }
  return box.doc;
}
