// The protobuf root for service mode and the BatonService method table shared by the client and
// the stand-in server. Messages are loaded from our own .proto files in src/proto/connectorapi at
// first use (protobufjs, the library the c1z writer uses too) into a root of their own, so the
// c1z writer's c1.connector.v2 definitions and these never collide.
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

// src/proto/connectorapi seen from src/service (tests, tsx), dist/service (built) and
// dist-bench/src/service (benchmarks).
const CANDIDATE_DIRS = [
  '../proto/connectorapi/',
  '../../src/proto/connectorapi/',
  '../../../src/proto/connectorapi/',
];
const PROTO_FILES = ['baton.proto', 'ratelimit.proto'];

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

let root: protobuf.Root | undefined;

function protoDir(): string {
  for (const candidate of CANDIDATE_DIRS) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(join(dir, 'baton.proto'))) return dir;
  }
  throw new Error(`service-mode .proto files not found near ${fileURLToPath(import.meta.url)}`);
}

function loadRoot(): protobuf.Root {
  if (root) return root;
  const dir = protoDir();
  const fresh = new protobuf.Root();
  // Imports are relative to src/proto/connectorapi; google/protobuf/* ones get protobufjs's bundled copies.
  fresh.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(dir, target));
  fresh.loadSync(PROTO_FILES.map((file) => join(dir, file)));
  fresh.resolveAll();
  root = fresh;
  return fresh;
}

/** The codec for a fully qualified message name from our .proto files. */
export function codecFor<T>(typeName: string): Codec<T> {
  const type = loadRoot().lookupType(typeName);
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
