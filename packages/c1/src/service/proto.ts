// Codecs for the service-mode messages, over the package's one protobuf root (src/proto.ts), which
// the c1z writer uses too: one set of c1.connector.v2 definitions serves both.
import type protobuf from 'protobufjs';
import { protoType } from '../proto.js';

const TYPE_URL_PREFIX = 'type.googleapis.com/';

/** How decoded messages look: camelCase fields, int64 as number, enums as names, oneof names set. */
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, oneofs: true, arrays: true };

/** Encodes a plain object to protobuf bytes and back. */
export interface Codec<T> {
  readonly typeName: string;
  readonly typeUrl: string;
  encode(value: T): Buffer;
  decode(bytes: Uint8Array): T;
}

/** The codec for a fully qualified message name from our .proto files. */
export function codecFor<T>(typeName: string): Codec<T> {
  const type = protoType(typeName);
  return {
    typeName,
    typeUrl: TYPE_URL_PREFIX + typeName,
    encode: (value) => {
      const message = type.fromObject(value as Record<string, unknown>);
      return Buffer.from(type.encode(message).finish());
    },
    decode: (bytes) => type.toObject(type.decode(bytes), TO_OBJECT) as T,
  };
}

/** The fully qualified message name in a `google.protobuf.Any` type URL. */
export function typeNameOf(typeUrl: string): string {
  const slash = typeUrl.lastIndexOf('/');
  return slash === -1 ? typeUrl : typeUrl.slice(slash + 1);
}
