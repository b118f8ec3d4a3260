// The protobuf types of the c1z data columns, looked up once in the package's protobuf root
// (src/proto.ts).
import type protobuf from 'protobufjs';
import { protoRoot } from '../proto.js';

export const TYPE_URL_PREFIX = 'type.googleapis.com/';

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
  const root = protoRoot();
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
