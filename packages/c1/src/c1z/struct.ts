// JSON-like values to google.protobuf.Struct and back. Keys are sorted by their UTF-8 bytes, the
// order Go's deterministic marshalling uses for map keys, so the same profile always encodes to the
// same bytes.

export interface StructMessage {
  fields: { key: string; value: ValueMessage }[];
}

export type ValueMessage =
  | { nullValue: 0 }
  | { numberValue: number }
  | { stringValue: string }
  | { boolValue: boolean }
  | { structValue: StructMessage }
  | { listValue: { values: ValueMessage[] } };

function hasNonBmpOrder(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) >= 0xd800) return true;
  return false;
}

/** Orders strings by their UTF-8 bytes (UTF-16 order differs only above U+D7FF). */
export function compareUtf8(a: string, b: string): number {
  if (hasNonBmpOrder(a) || hasNonBmpOrder(b))
    return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A Value for a JSON-like value; undefined for what JSON would drop (undefined, functions, symbols). */
export function toValue(value: unknown): ValueMessage | undefined {
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'number':
      return { numberValue: value };
    case 'bigint':
      return { numberValue: Number(value) };
    case 'boolean':
      return { boolValue: value };
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'object':
      if (value === null) return { nullValue: 0 };
      if (value instanceof Date) return { stringValue: value.toISOString() };
      if (Array.isArray(value)) {
        return { listValue: { values: value.map((item) => toValue(item) ?? { nullValue: 0 }) } };
      }
      return { structValue: toStruct(value as Record<string, unknown>) };
  }
}

/** A Struct for a plain object, its keys in UTF-8 byte order. */
export function toStruct(object: Readonly<Record<string, unknown>>): StructMessage {
  const fields: StructMessage['fields'] = [];
  for (const key of Object.keys(object).sort(compareUtf8)) {
    const value = toValue(object[key]);
    if (value !== undefined) fields.push({ key, value });
  }
  return { fields };
}

interface DecodedValue {
  nullValue?: number | null;
  numberValue?: number | null;
  stringValue?: string | null;
  boolValue?: boolean | null;
  structValue?: DecodedStruct | null;
  listValue?: { values?: DecodedValue[] | null } | null;
  kind?: string;
}

export interface DecodedStruct {
  fields?: { key?: string; value?: DecodedValue | null }[] | null;
}

/** The JSON value of a decoded Value message (protobufjs sets `kind` to the oneof member present). */
export function fromValue(value: DecodedValue | null | undefined): unknown {
  if (!value) return null;
  switch (value.kind ?? '') {
    case 'numberValue':
      return value.numberValue;
    case 'stringValue':
      return value.stringValue;
    case 'boolValue':
      return value.boolValue;
    case 'structValue':
      return fromStruct(value.structValue);
    case 'listValue':
      return (value.listValue?.values ?? []).map((item) => fromValue(item));
    default:
      return null;
  }
}

/** The plain object of a decoded Struct message. */
export function fromStruct(struct: DecodedStruct | null | undefined): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const entry of struct?.fields ?? []) object[entry.key ?? ''] = fromValue(entry.value);
  return object;
}
