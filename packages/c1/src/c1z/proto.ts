// The protobuf types of the c1z data columns, built with protobufjs from our own .proto files in
// src/proto (c1.connector.v2 and the two well-known types they use). The files are parsed one by
// one into a root of their own rather than loaded: protobufjs substitutes its bundled copy for any
// import under google/protobuf/, and ours declares Struct's map as explicit entries (see
// struct.proto) to control their order.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PROTO_FILES = [
  'google/protobuf/any.proto',
  'google/protobuf/struct.proto',
  'c1/connector/v2/resource.proto',
  'c1/connector/v2/entitlement.proto',
  'c1/connector/v2/grant.proto',
  'c1/connector/v2/annotation_grant.proto',
  'c1/connector/v2/annotation_external_resource.proto',
  'c1/connector/v2/annotation_resource_tree.proto',
  'c1/connector/v2/annotation_trait.proto',
];

export const TYPE_URL_PREFIX = 'type.googleapis.com/';

// src/proto seen from src/c1z (tests, tsx), dist/c1z (built) and dist-bench/src/c1z (the bench).
const CANDIDATE_DIRS = ['../proto/', '../../src/proto/', '../../../src/proto/'];

function protoDir(): string {
  for (const candidate of CANDIDATE_DIRS) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(join(dir, 'c1/connector/v2/resource.proto'))) return dir;
  }
  throw new Error(`c1.connector.v2 .proto files not found near ${fileURLToPath(import.meta.url)}`);
}

export interface C1zTypes {
  readonly root: protobuf.Root;
  readonly Any: protobuf.Type;
  readonly Struct: protobuf.Type;
  readonly ResourceType: protobuf.Type;
  readonly Resource: protobuf.Type;
  readonly ResourceId: protobuf.Type;
  readonly Entitlement: protobuf.Type;
  readonly Grant: protobuf.Type;
  readonly GrantExpandable: protobuf.Type;
  readonly GrantImmutable: protobuf.Type;
  readonly ExternalResourceMatchID: protobuf.Type;
  readonly ChildResourceType: protobuf.Type;
  readonly SkipEntitlementsAndGrants: protobuf.Type;
  readonly UserTrait: protobuf.Type;
  readonly GroupTrait: protobuf.Type;
  readonly RoleTrait: protobuf.Type;
}

let types: C1zTypes | undefined;

/** The c1z message types, parsed once on first use. */
export function c1zTypes(): C1zTypes {
  if (types) return types;
  const dir = protoDir();
  const root = new protobuf.Root();
  for (const file of PROTO_FILES)
    protobuf.parse(readFileSync(join(dir, file), 'utf8'), root, { keepCase: false });
  root.resolveAll();
  const type = (name: string) => root.lookupType(name);
  types = {
    root,
    Any: type('google.protobuf.Any'),
    Struct: type('google.protobuf.Struct'),
    ResourceType: type('c1.connector.v2.ResourceType'),
    Resource: type('c1.connector.v2.Resource'),
    ResourceId: type('c1.connector.v2.ResourceId'),
    Entitlement: type('c1.connector.v2.Entitlement'),
    Grant: type('c1.connector.v2.Grant'),
    GrantExpandable: type('c1.connector.v2.GrantExpandable'),
    GrantImmutable: type('c1.connector.v2.GrantImmutable'),
    ExternalResourceMatchID: type('c1.connector.v2.ExternalResourceMatchID'),
    ChildResourceType: type('c1.connector.v2.ChildResourceType'),
    SkipEntitlementsAndGrants: type('c1.connector.v2.SkipEntitlementsAndGrants'),
    UserTrait: type('c1.connector.v2.UserTrait'),
    GroupTrait: type('c1.connector.v2.GroupTrait'),
    RoleTrait: type('c1.connector.v2.RoleTrait'),
  };
  return types;
}

/** `type.googleapis.com/<name>` for a fully qualified message name. */
export function typeUrlOf(typeName: string): string {
  return TYPE_URL_PREFIX + typeName;
}

/** The fully qualified message name in a type URL (the part after the last slash). */
export function typeNameOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}
