// The one protobuf root of this package: every message of the c1z files and of service mode,
// built with protobufjs from our own .proto files in src/proto (c1.connector.v2, the BatonService
// messages, c1.ratelimit.v1 and the well-known types they use). The files are parsed one by one
// into this root rather than loaded: protobufjs substitutes its bundled copy for any import under
// google/protobuf/, and ours declares map fields (Struct, GrantSources) as explicit entries to
// control their order.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PROTO_FILES = [
  'google/protobuf/any.proto',
  'google/protobuf/duration.proto',
  'google/protobuf/struct.proto',
  'google/protobuf/timestamp.proto',
  'google/rpc/status.proto',
  'c1/connector/v2/asset.proto',
  'c1/connector/v2/resource.proto',
  'c1/connector/v2/entitlement.proto',
  'c1/connector/v2/grant.proto',
  'c1/connector/v2/connector.proto',
  'c1/connector/v2/event_feed.proto',
  'c1/connector/v2/annotation_grant.proto',
  'c1/connector/v2/annotation_baton_id.proto',
  'c1/connector/v2/annotation_resource_tree.proto',
  'c1/connector/v2/annotation_trait.proto',
  'c1/ratelimit/v1/ratelimit.proto',
  'c1/connectorapi/baton/v1/baton.proto',
];

// src/proto seen from src (tests, tsx), dist (built) and dist-bench/src (the bench).
const CANDIDATE_DIRS = ['./proto/', '../src/proto/', '../../src/proto/'];

function protoDir(): string {
  for (const candidate of CANDIDATE_DIRS) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(join(dir, 'c1/connector/v2/resource.proto'))) return dir;
  }
  throw new Error(`.proto files not found near ${fileURLToPath(import.meta.url)}`);
}

let root: protobuf.Root | undefined;

/** The root holding every message this package encodes or decodes, parsed once on first use. */
export function protoRoot(): protobuf.Root {
  if (root) return root;
  const dir = protoDir();
  const fresh = new protobuf.Root();
  for (const file of PROTO_FILES) {
    protobuf.parse(readFileSync(join(dir, file), 'utf8'), fresh, { keepCase: false });
  }
  fresh.resolveAll();
  root = fresh;
  return fresh;
}

/** The message type of a fully qualified name, e.g. `c1.connector.v2.Grant`. */
export function protoType(typeName: string): protobuf.Type {
  return protoRoot().lookupType(typeName);
}
