// The protobuf form of `/openapi/v2`: the same Swagger 2.0 document, encoded as gnostic's
// openapi.v2.Document message, which is the only form kubectl asks for (`Accept:
// application/com.github.proto-openapi.spec.v2@v1.0+protobuf`) and reads (`kubectl explain
// --output=plaintext-openapiv2`, client-side validation against servers without field
// validation). Only the parts of Swagger this emulator's document uses are encoded: schemas
// (ref, type, format, description, required, items, properties, additionalProperties, default,
// vendor extensions), paths with their operations, parameters and responses. Vendor extension
// and default values travel as YAML text, as gnostic's Any does; JSON is valid YAML.

/** What clients put in Accept (`@` is kept for them; kube-openapi names it deprecated). */
export const OPENAPI_V2_PROTOBUF_ACCEPT = [
  'application/com.github.proto-openapi.spec.v2@v1.0+protobuf',
  'application/com.github.proto-openapi.spec.v2.v1.0+protobuf',
];
/** The Content-Type answered: Go's MIME parser refuses the `@` form, so kubectl could not read it. */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

type Doc = Record<string, unknown>;

/** A protobuf message under construction: fields appended in the order written. */
class Writer {
  private readonly parts: Buffer[] = [];

  private varint(value: number): void {
    const out: number[] = [];
    let v = value;
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    this.parts.push(Buffer.from(out));
  }

  bytes(field: number, payload: Buffer): this {
    this.varint(field * 8 + 2);
    this.varint(payload.length);
    this.parts.push(payload);
    return this;
  }

  string(field: number, value: unknown): this {
    return typeof value === 'string' && value !== '' ? this.bytes(field, Buffer.from(value, 'utf8')) : this;
  }

  strings(field: number, values: unknown): this {
    if (Array.isArray(values))
      for (const v of values) if (typeof v === 'string') this.bytes(field, Buffer.from(v, 'utf8'));
    return this;
  }

  bool(field: number, value: unknown): this {
    if (value === true) {
      this.varint(field * 8);
      this.varint(1);
    }
    return this;
  }

  message(field: number, inner: Writer | undefined): this {
    return inner ? this.bytes(field, inner.finish()) : this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function isRecord(value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** gnostic Any: the value as YAML text (field 2). */
function any(value: unknown): Writer {
  return new Writer().string(2, JSON.stringify(value));
}

/** NamedAny entries for every `x-` member. */
function vendorExtensions(w: Writer, field: number, node: Doc): void {
  for (const [name, value] of Object.entries(node)) {
    if (name.startsWith('x-')) w.message(field, new Writer().string(1, name).message(2, any(value)));
  }
}

function schema(node: Doc): Writer {
  const w = new Writer().string(1, node.$ref).string(2, node.format).string(4, node.description);
  if (node.default !== undefined) w.message(5, any(node.default));
  w.bool(16, node.uniqueItems).strings(19, node.required);
  if (isRecord(node.additionalProperties))
    w.message(21, new Writer().message(1, schema(node.additionalProperties)));
  if (typeof node.type === 'string') w.message(22, new Writer().string(1, node.type));
  if (isRecord(node.items)) w.message(23, new Writer().message(1, schema(node.items)));
  if (isRecord(node.properties)) {
    const props = new Writer();
    for (const [name, value] of Object.entries(node.properties)) {
      if (isRecord(value)) props.message(1, new Writer().string(1, name).message(2, schema(value)));
    }
    w.message(25, props);
  }
  vendorExtensions(w, 31, node);
  return w;
}

function parameter(p: Doc): Writer {
  let param: Writer;
  if (p.in === 'body') {
    param = new Writer().message(
      1,
      new Writer()
        .string(1, p.description)
        .string(2, p.name)
        .string(3, p.in)
        .bool(4, p.required)
        .message(5, isRecord(p.schema) ? schema(p.schema) : undefined),
    );
  } else {
    const sub =
      p.in === 'path'
        ? new Writer()
            .bool(1, p.required)
            .string(2, p.in)
            .string(3, p.description)
            .string(4, p.name)
            .string(5, p.type)
            .bool(19, p.uniqueItems)
        : new Writer()
            .bool(1, p.required)
            .string(2, p.in)
            .string(3, p.description)
            .string(4, p.name)
            .string(6, p.type)
            .bool(20, p.uniqueItems);
    param = new Writer().message(2, new Writer().message(p.in === 'path' ? 4 : 3, sub));
  }
  return new Writer().message(1, param);
}

function operation(op: Doc): Writer {
  const w = new Writer()
    .string(3, op.description)
    .string(5, op.operationId)
    .strings(6, op.produces)
    .strings(7, op.consumes);
  if (Array.isArray(op.parameters))
    for (const p of op.parameters) if (isRecord(p)) w.message(8, parameter(p));
  if (isRecord(op.responses)) {
    const responses = new Writer();
    for (const [code, r] of Object.entries(op.responses)) {
      if (!isRecord(r)) continue;
      const response = new Writer()
        .string(1, r.description)
        .message(2, isRecord(r.schema) ? new Writer().message(1, schema(r.schema)) : undefined);
      responses.message(1, new Writer().string(1, code).message(2, new Writer().message(1, response)));
    }
    w.message(9, responses);
  }
  vendorExtensions(w, 13, op);
  return w;
}

const OPERATION_FIELDS: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, patch: 8 };

function pathItem(item: Doc): Writer {
  const w = new Writer();
  for (const [method, field] of Object.entries(OPERATION_FIELDS)) {
    const op = item[method];
    if (isRecord(op)) w.message(field, operation(op));
  }
  if (Array.isArray(item.parameters))
    for (const p of item.parameters) if (isRecord(p)) w.message(9, parameter(p));
  vendorExtensions(w, 10, item);
  return w;
}

/** Encodes a Swagger 2.0 document (as openapi.ts builds it) as an openapi.v2.Document. */
export function encodeOpenApiV2(doc: Doc): Buffer {
  const w = new Writer().string(1, doc.swagger);
  if (isRecord(doc.info)) w.message(2, new Writer().string(1, doc.info.title).string(2, doc.info.version));
  if (isRecord(doc.paths)) {
    const paths = new Writer();
    for (const [name, item] of Object.entries(doc.paths)) {
      if (isRecord(item)) paths.message(2, new Writer().string(1, name).message(2, pathItem(item)));
    }
    w.message(8, paths);
  }
  if (isRecord(doc.definitions)) {
    const definitions = new Writer();
    for (const [name, value] of Object.entries(doc.definitions)) {
      if (isRecord(value)) definitions.message(1, new Writer().string(1, name).message(2, schema(value)));
    }
    w.message(9, definitions);
  }
  return w.finish();
}
