// Decodes `application/vnd.kubernetes.protobuf` request bodies into the JSON form the handlers
// work on. kubectl 1.32's typed commands (`create rolebinding|namespace|configmap|…`, `auth
// can-i`, `auth whoami`) send protobuf unconditionally, without consulting discovery, so
// accepting it is the only way those commands work. Responses stay JSON: clients list JSON after
// protobuf in Accept and take it.
//
// The body is the 4-byte magic `k8s\0` then a runtime.Unknown message {1: typeMeta {1: apiVersion,
// 2: kind}, 2: raw, 3: contentEncoding, 4: contentType}; `raw` is the object's message, read
// with the field numbers of schema.ts. Go's JSON encoding drops empty optional values, so empty
// strings, zero numbers and zero times are left out (repeated strings keep their empty entries).
// Fields the schema does not know are skipped, as protobuf decoders do.
import { message, type FieldSpec, type MessageSpec } from './schema.js';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = Buffer.from('k8s\0', 'latin1');

export class ProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufError';
  }
}

type Json = unknown;

export interface WireField {
  number: number;
  wireType: number;
  /** Varint and fixed values. */
  value?: bigint;
  /** Length-delimited payloads. */
  bytes?: Buffer;
}

/** Reads the fields of one message in order, whatever the message. */
export function* readFields(buf: Buffer): Generator<WireField> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new ProtobufError('unexpected end of a varint');
      const byte = buf[pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new ProtobufError('varint overflows 64 bits');
    }
  };
  while (pos < buf.length) {
    const key = varint();
    const number = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (number === 0) throw new ProtobufError('illegal field number 0');
    switch (wireType) {
      case 0:
        yield { number, wireType, value: varint() };
        break;
      case 1:
        if (pos + 8 > buf.length) throw new ProtobufError('unexpected end of a fixed64');
        yield { number, wireType, value: buf.readBigUInt64LE(pos) };
        pos += 8;
        break;
      case 2: {
        const length = Number(varint());
        if (pos + length > buf.length) throw new ProtobufError('length-delimited field runs past the end');
        yield { number, wireType, bytes: buf.subarray(pos, pos + length) };
        pos += length;
        break;
      }
      case 5:
        if (pos + 4 > buf.length) throw new ProtobufError('unexpected end of a fixed32');
        yield { number, wireType, value: BigInt(buf.readUInt32LE(pos)) };
        pos += 4;
        break;
      default:
        throw new ProtobufError(`unsupported wire type ${wireType}`);
    }
  }
}

function expectBytes(f: WireField, spec: FieldSpec): Buffer {
  if (f.bytes === undefined) throw new ProtobufError(`field ${spec.name} is not length-delimited`);
  return f.bytes;
}

function expectVarint(f: WireField, spec: FieldSpec): bigint {
  if (f.wireType !== 0 || f.value === undefined)
    throw new ProtobufError(`field ${spec.name} is not a varint`);
  return f.value;
}

/** meta/v1 Time {1: seconds, 2: nanos} as the RFC 3339 string JSON carries (second precision). */
function decodeTime(buf: Buffer): string | undefined {
  let seconds = 0n;
  for (const f of readFields(buf))
    if (f.number === 1 && f.value !== undefined) seconds = BigInt.asIntN(64, f.value);
  if (seconds === 0n) return undefined;
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function decodeMapEntry(buf: Buffer, valueType: 'string' | 'bytes' | 'stringList'): [string, Json] {
  let key = '';
  let value: Json = valueType === 'stringList' ? [] : '';
  for (const f of readFields(buf)) {
    if (f.number === 1 && f.bytes) key = f.bytes.toString('utf8');
    else if (f.number === 2 && f.bytes) {
      if (valueType === 'string') value = f.bytes.toString('utf8');
      else if (valueType === 'bytes') value = f.bytes.toString('base64');
      else {
        const items: string[] = [];
        for (const item of readFields(f.bytes))
          if (item.number === 1 && item.bytes) items.push(item.bytes.toString('utf8'));
        value = items;
      }
    }
  }
  return [key, value];
}

/** One field value, or undefined when Go's JSON would omit it. */
function decodeValue(f: WireField, spec: FieldSpec): Json {
  const type = spec.type;
  if ('ref' in type) return decodeMessage(expectBytes(f, spec), message(type.ref));
  if ('map' in type) return decodeMapEntry(expectBytes(f, spec), type.map);
  switch (type.scalar) {
    case 'string':
      return expectBytes(f, spec).toString('utf8');
    case 'bytes':
      return expectBytes(f, spec).toString('base64');
    case 'bool':
      return expectVarint(f, spec) !== 0n;
    case 'int32':
      return Number(BigInt.asIntN(32, expectVarint(f, spec)));
    case 'int64':
      return Number(BigInt.asIntN(64, expectVarint(f, spec)));
    case 'time':
      return decodeTime(expectBytes(f, spec));
    case 'object': {
      // FieldsV1 {1: raw JSON}.
      for (const inner of readFields(expectBytes(f, spec))) {
        if (inner.number === 1 && inner.bytes) {
          try {
            return JSON.parse(inner.bytes.toString('utf8')) as Json;
          } catch {
            throw new ProtobufError(`field ${spec.name} does not hold JSON`);
          }
        }
      }
      return undefined;
    }
  }
}

function isEmptyScalar(value: Json): boolean {
  return value === undefined || value === '' || value === 0;
}

/** Decodes one message as its JSON object. */
export function decodeMessage(buf: Buffer, spec: MessageSpec): Record<string, Json> {
  const byNumber = new Map<number, FieldSpec>();
  for (const f of spec.fields) if (f.proto !== undefined) byNumber.set(f.proto, f);
  const out: Record<string, Json> = {};
  for (const wire of readFields(buf)) {
    const fieldSpec = byNumber.get(wire.number);
    if (!fieldSpec) continue;
    const value = decodeValue(wire, fieldSpec);
    if ('map' in fieldSpec.type) {
      const [key, entry] = value as [string, Json];
      const map = (out[fieldSpec.name] ??= {}) as Record<string, Json>;
      Object.defineProperty(map, key, { value: entry, enumerable: true, writable: true, configurable: true });
    } else if (fieldSpec.repeated) {
      if (value !== undefined) ((out[fieldSpec.name] ??= []) as Json[]).push(value);
    } else if (!isEmptyScalar(value)) {
      out[fieldSpec.name] = value;
    }
  }
  return out;
}

/**
 * Decodes a protobuf request body: checks the magic and the envelope, then the object by the
 * envelope's kind. Returns the JSON object with apiVersion and kind set from the envelope.
 */
export function decodeProtobufBody(
  body: Buffer,
  lookup: (kind: string) => MessageSpec | undefined,
): Record<string, Json> {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ProtobufError(
      'provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]',
    );
  }
  let apiVersion = '';
  let kindName = '';
  let raw: Buffer | undefined;
  for (const f of readFields(body.subarray(MAGIC.length))) {
    if (f.number === 1 && f.bytes) {
      for (const t of readFields(f.bytes)) {
        if (t.number === 1 && t.bytes) apiVersion = t.bytes.toString('utf8');
        if (t.number === 2 && t.bytes) kindName = t.bytes.toString('utf8');
      }
    } else if (f.number === 2 && f.bytes) raw = f.bytes;
  }
  if (kindName === '') throw new ProtobufError("Object 'Kind' is missing in the protobuf envelope");
  const spec = lookup(kindName);
  if (!spec) throw new ProtobufError(`no kind "${kindName}" is registered for version "${apiVersion}"`);
  return { apiVersion, kind: kindName, ...decodeMessage(raw ?? Buffer.alloc(0), spec) };
}
