// The snapshot model to c1.connector.v2 messages and back. Encoding builds plain objects that leave
// out every default value (proto3 writes none; protobufjs would write a present "" or 0), and
// protobufjs writes fields in field-number order, so the bytes are what Go's deterministic
// marshalling gives for the same message.
import protobuf from 'protobufjs';
import type {
  C1AccountType,
  C1Entitlement,
  C1Grant,
  C1GrantAnnotation,
  C1Resource,
  C1ResourceAnnotation,
  C1ResourceRef,
  C1ResourceType,
  C1Trait,
  GrantExpandableAnnotation,
} from './model.js';
import { c1zTypes, typeNameOf, typeUrlOf } from './proto.js';
import { fromStruct, toStruct } from './struct.js';

const TRAIT_NUMBER: Readonly<Record<C1Trait, number>> = { USER: 1, GROUP: 2, ROLE: 3, APP: 4, SECRET: 5 };
const ACCOUNT_TYPE_NUMBER: Readonly<Record<C1AccountType, number>> = { HUMAN: 1, SERVICE: 2, SYSTEM: 3 };
const USER_STATUS_ENABLED = 1;
const PURPOSE_NUMBER = { assignment: 1, permission: 2 } as const;

type Obj = Record<string, unknown>;

function setIf(target: Obj, key: string, value: string | undefined): void {
  if (value !== undefined && value !== '') target[key] = value;
}

function resourceId(ref: C1ResourceRef): Obj {
  const id: Obj = {};
  setIf(id, 'resourceType', ref.type);
  setIf(id, 'resource', ref.id);
  return id;
}

const typeUrls = new WeakMap<protobuf.Type, string>();

function anyOf(type: protobuf.Type, message: Obj): Obj {
  let typeUrl = typeUrls.get(type);
  if (typeUrl === undefined) {
    typeUrl = typeUrlOf(type.fullName.slice(1));
    typeUrls.set(type, typeUrl);
  }
  return { typeUrl, value: type.encode(message).finish() };
}

/** The ResourceType message object for a resource type. */
export function resourceTypeObject(resourceType: C1ResourceType): Obj {
  const message: Obj = {};
  setIf(message, 'id', resourceType.id);
  setIf(message, 'displayName', resourceType.displayName);
  if (resourceType.traits.length > 0)
    message.traits = resourceType.traits.map((trait) => TRAIT_NUMBER[trait]);
  setIf(message, 'description', resourceType.description);
  return message;
}

/** Serialized c1.connector.v2.ResourceType. */
export function encodeResourceType(resourceType: C1ResourceType): Uint8Array {
  return c1zTypes().ResourceType.encode(resourceTypeObject(resourceType)).finish();
}

export interface ResourceEncodingContext {
  /** Traits of each resource type id, from the snapshot's resource types. */
  traitsOf(resourceTypeId: string): readonly C1Trait[];
  /** Account type of a USER-trait resource that does not name one. */
  accountTypeOf(resource: C1Resource): C1AccountType;
}

function traitAnnotations(resource: C1Resource, context: ResourceEncodingContext): Obj[] {
  const types = c1zTypes();
  const profile = resource.profile === undefined ? undefined : toStruct(resource.profile);
  const annotations: Obj[] = [];
  for (const trait of context.traitsOf(resource.type)) {
    switch (trait) {
      case 'USER': {
        const user: Obj = { status: { status: USER_STATUS_ENABLED } };
        if (profile) user.profile = profile;
        user.accountType = ACCOUNT_TYPE_NUMBER[resource.accountType ?? context.accountTypeOf(resource)];
        annotations.push(anyOf(types.UserTrait, user));
        break;
      }
      case 'GROUP':
        annotations.push(anyOf(types.GroupTrait, profile ? { profile } : {}));
        break;
      case 'ROLE':
        annotations.push(anyOf(types.RoleTrait, profile ? { profile } : {}));
        break;
      case 'APP':
      case 'SECRET':
        // No resource type of this product has these traits; their messages are not declared.
        break;
    }
  }
  return annotations;
}

function resourceAnnotation(annotation: C1ResourceAnnotation): Obj | undefined {
  const types = c1zTypes();
  switch (annotation.type) {
    case 'ChildResourceType': {
      const message: Obj = {};
      setIf(message, 'resourceTypeId', annotation.resourceTypeId);
      return anyOf(types.ChildResourceType, message);
    }
    case 'SkipEntitlementsAndGrants':
      return anyOf(types.SkipEntitlementsAndGrants, {});
    case 'ExternalId':
      // Not an annotation on the wire: baton-sdk stores it in Resource.external_id.
      return undefined;
  }
}

/** The Resource message object: annotations as given, then the trait annotation, as baton-sdk orders them. */
export function resourceObject(resource: C1Resource, context: ResourceEncodingContext): Obj {
  const message: Obj = { id: resourceId(resource) };
  if (resource.parent) message.parentResourceId = resourceId(resource.parent);
  setIf(message, 'displayName', resource.displayName);
  const annotations: Obj[] = [];
  let externalId: Obj | undefined;
  for (const annotation of resource.annotations ?? []) {
    if (annotation.type === 'ExternalId') {
      externalId = {};
      setIf(externalId, 'id', annotation.id);
      setIf(externalId, 'link', annotation.link);
      setIf(externalId, 'description', annotation.description);
      continue;
    }
    const any = resourceAnnotation(annotation);
    if (any) annotations.push(any);
  }
  annotations.push(...traitAnnotations(resource, context));
  if (annotations.length > 0) message.annotations = annotations;
  setIf(message, 'description', resource.description);
  if (externalId) message.externalId = externalId;
  return message;
}

/** Serialized c1.connector.v2.Resource. */
export function encodeResource(resource: C1Resource, context: ResourceEncodingContext): Uint8Array {
  return c1zTypes().Resource.encode(resourceObject(resource, context)).finish();
}

/** The Entitlement message object; grantable-to types are the full ResourceType messages when known. */
export function entitlementObject(
  entitlement: C1Entitlement,
  resourceTypeOf: (id: string) => C1ResourceType | undefined,
): Obj {
  const message: Obj = { resource: { id: resourceId(entitlement.resource) } };
  setIf(message, 'id', entitlement.id);
  setIf(message, 'displayName', entitlement.displayName);
  setIf(message, 'description', entitlement.description);
  if (entitlement.grantableTo.length > 0) {
    message.grantableTo = entitlement.grantableTo.map((id) => {
      const known = resourceTypeOf(id);
      return known ? resourceTypeObject(known) : { id };
    });
  }
  message.purpose = PURPOSE_NUMBER[entitlement.purpose];
  setIf(message, 'slug', entitlement.slug);
  return message;
}

/** Serialized c1.connector.v2.Entitlement. */
export function encodeEntitlement(
  entitlement: C1Entitlement,
  resourceTypeOf: (id: string) => C1ResourceType | undefined,
): Uint8Array {
  return c1zTypes().Entitlement.encode(entitlementObject(entitlement, resourceTypeOf)).finish();
}

function grantAnnotation(annotation: Exclude<C1GrantAnnotation, GrantExpandableAnnotation>): Obj {
  const types = c1zTypes();
  switch (annotation.type) {
    case 'ExternalResourceMatchID': {
      const message: Obj = {};
      setIf(message, 'id', annotation.id);
      return anyOf(types.ExternalResourceMatchID, message);
    }
    case 'GrantImmutable': {
      const message: Obj = {};
      setIf(message, 'sourceId', annotation.sourceId);
      return anyOf(types.GrantImmutable, message);
    }
  }
}

function expandableObject(annotation: GrantExpandableAnnotation): Obj {
  const message: Obj = {};
  if (annotation.entitlementIds.length > 0) message.entitlementIds = [...annotation.entitlementIds];
  if (annotation.shallow) message.shallow = true;
  if (annotation.resourceTypeIds && annotation.resourceTypeIds.length > 0) {
    message.resourceTypeIds = [...annotation.resourceTypeIds];
  }
  return message;
}

export interface EncodedGrant {
  /** Serialized c1.connector.v2.Grant, without its GrantExpandable annotation. */
  data: Uint8Array;
  /** Serialized GrantExpandable when the grant has one naming at least one entitlement, else null. */
  expansion: Uint8Array | null;
  needsExpansion: boolean;
}

// Grants come grouped by entitlement, and all grants of one entitlement share the same Entitlement
// sub-message: the last one encoded is kept and reused while the entitlement stays the same.
let lastEntitlement: { entitlementId: string; type: string; id: string; bytes: Uint8Array } | undefined;

function grantEntitlementBytes(grant: C1Grant): Uint8Array {
  const last = lastEntitlement;
  if (
    last &&
    last.entitlementId === grant.entitlementId &&
    last.type === grant.resource.type &&
    last.id === grant.resource.id
  ) {
    return last.bytes;
  }
  const entitlement: Obj = { resource: { id: resourceId(grant.resource) } };
  setIf(entitlement, 'id', grant.entitlementId);
  const bytes = c1zTypes().Entitlement.encode(entitlement).finish();
  lastEntitlement = {
    entitlementId: grant.entitlementId,
    type: grant.resource.type,
    id: grant.resource.id,
    bytes,
  };
  return bytes;
}

let grantTags: { entitlement: number; principal: number; id: number; annotations: number } | undefined;

function lengthDelimitedTag(type: protobuf.Type, field: string): number {
  const number = type.fields[field]?.id;
  if (number === undefined) throw new Error(`${type.fullName} has no field ${field}`);
  return (number << 3) | 2;
}

/**
 * Serializes a grant the way baton-sdk stores it: the GrantExpandable annotation is taken out of
 * `data` and kept on its own in `expansion`; an annotation that names no (non-blank) entitlement is
 * dropped and leaves `expansion` null. The Grant fields are written in field-number order with
 * protobufjs's writer, the entitlement from its cached bytes; the result is the same as encoding
 * the whole Grant message.
 */
export function encodeGrant(grant: C1Grant): EncodedGrant {
  const types = c1zTypes();
  grantTags ??= {
    entitlement: lengthDelimitedTag(types.Grant, 'entitlement'),
    principal: lengthDelimitedTag(types.Grant, 'principal'),
    id: lengthDelimitedTag(types.Grant, 'id'),
    annotations: lengthDelimitedTag(types.Grant, 'annotations'),
  };
  let expandable: GrantExpandableAnnotation | undefined;
  const writer = protobuf.Writer.create();
  writer.uint32(grantTags.entitlement).bytes(grantEntitlementBytes(grant));
  types.Resource.encode(
    { id: resourceId(grant.principal) },
    writer.uint32(grantTags.principal).fork(),
  ).ldelim();
  if (grant.id !== '') writer.uint32(grantTags.id).string(grant.id);
  for (const annotation of grant.annotations ?? []) {
    if (annotation.type === 'GrantExpandable') expandable ??= annotation;
    else types.Any.encode(grantAnnotation(annotation), writer.uint32(grantTags.annotations).fork()).ldelim();
  }
  const data = writer.finish();
  const valid = expandable?.entitlementIds.some((id) => id.trim() !== '') ?? false;
  if (!expandable || !valid) return { data, expansion: null, needsExpansion: false };
  return {
    data,
    expansion: types.GrantExpandable.encode(expandableObject(expandable)).finish(),
    needsExpansion: true,
  };
}

/** The whole Grant message object (as baton-sdk's grant.NewGrant builds it), GrantExpandable included. */
export function grantObject(grant: C1Grant): Obj {
  const types = c1zTypes();
  const entitlement: Obj = { resource: { id: resourceId(grant.resource) } };
  setIf(entitlement, 'id', grant.entitlementId);
  const message: Obj = { entitlement, principal: { id: resourceId(grant.principal) } };
  setIf(message, 'id', grant.id);
  const annotations = (grant.annotations ?? []).map((annotation) =>
    annotation.type === 'GrantExpandable'
      ? anyOf(types.GrantExpandable, expandableObject(annotation))
      : grantAnnotation(annotation),
  );
  if (annotations.length > 0) message.annotations = annotations;
  return message;
}

// ---- decoding ----------------------------------------------------------------------------------

/** A google.protobuf.Any, with its message decoded when it is one of the declared types. */
export interface AnnotationMessage {
  typeUrl: string;
  typeName: string;
  value: Uint8Array;
  message?: Record<string, unknown>;
}

export interface ResourceIdMessage {
  resourceType: string;
  resource: string;
  batonResource: boolean;
}

export interface ResourceTypeMessage {
  id: string;
  displayName: string;
  traits: string[];
  annotations: AnnotationMessage[];
  description: string;
  sourcedExternally: boolean;
}

export interface ResourceMessage {
  id: ResourceIdMessage | null;
  parentResourceId: ResourceIdMessage | null;
  displayName: string;
  annotations: AnnotationMessage[];
  description: string;
  batonResource: boolean;
  externalId: { id: string; link: string; description: string } | null;
  creationSource: string;
}

export interface EntitlementMessage {
  resource: ResourceMessage | null;
  id: string;
  displayName: string;
  description: string;
  grantableTo: ResourceTypeMessage[];
  annotations: AnnotationMessage[];
  purpose: string;
  slug: string;
}

export interface GrantMessage {
  entitlement: EntitlementMessage | null;
  principal: ResourceMessage | null;
  id: string;
  annotations: AnnotationMessage[];
  /** Set by grant expansion: the entitlements the grant comes from, and whether each is direct. */
  sources: { sources: { key: string; value: { isDirect: boolean } | null }[] } | null;
}

export interface GrantExpandableMessage {
  entitlementIds: string[];
  shallow: boolean;
  resourceTypeIds: string[];
}

/**
 * A decoded message as a plain object with every field present (proto3 defaults filled in), enums
 * as names, Struct as a plain object and Any with its message decoded.
 */
export function toPlain(type: protobuf.Type, message: protobuf.Message): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  const record = message as unknown as Record<string, unknown>;
  for (const field of type.fieldsArray) {
    const value = record[field.name];
    plain[field.name] = field.repeated
      ? ((value as unknown[] | undefined) ?? []).map((item) => plainValue(field, item))
      : plainValue(field, value);
  }
  return plain;
}

function plainValue(field: protobuf.Field, value: unknown): unknown {
  const resolved = field.resolvedType;
  if (resolved && 'fieldsArray' in resolved) {
    if (value === null || value === undefined) return null;
    const nested = resolved;
    if (nested.fullName === '.google.protobuf.Struct') return fromStruct(value);
    if (nested.fullName === '.google.protobuf.Any')
      return decodeAnnotation(value as { typeUrl: string; value: Uint8Array });
    return toPlain(nested, value as protobuf.Message);
  }
  if (resolved && 'valuesById' in resolved) return resolved.valuesById[value as number] ?? value;
  if (value instanceof Uint8Array) return new Uint8Array(value);
  return value;
}

const annotationTypes = new Map<string, protobuf.Type | null>();

function annotationType(typeName: string): protobuf.Type | null {
  let type = annotationTypes.get(typeName);
  if (type === undefined) {
    const found = c1zTypes().root.lookup(typeName);
    type = found && 'fieldsArray' in found ? (found as protobuf.Type) : null;
    annotationTypes.set(typeName, type);
  }
  return type;
}

/** An Any with its message decoded when the type is one of ours. */
export function decodeAnnotation(any: { typeUrl: string; value: Uint8Array }): AnnotationMessage {
  const typeName = typeNameOf(any.typeUrl);
  const value = new Uint8Array(any.value);
  const decoded: AnnotationMessage = { typeUrl: any.typeUrl, typeName, value };
  const type = annotationType(typeName);
  if (type) decoded.message = toPlain(type, type.decode(value));
  return decoded;
}

// The data columns are decoded with protobufjs's generated toObject (all fields, enums by name),
// then their Any annotations, wherever the message nests them, are decoded too.
const TO_OBJECT: protobuf.IConversionOptions = { defaults: true, arrays: true, enums: String, longs: Number };

type Loose = Record<string, unknown> & { annotations?: unknown[] };

function withAnnotations(object: Loose | null | undefined): void {
  if (object?.annotations) {
    object.annotations = object.annotations.map((any) =>
      decodeAnnotation(any as { typeUrl: string; value: Uint8Array }),
    );
  }
}

function fixEntitlement(object: Loose | null | undefined): void {
  if (!object) return;
  withAnnotations(object);
  withAnnotations(object.resource as Loose | null);
  for (const resourceType of (object.grantableTo as Loose[] | undefined) ?? []) withAnnotations(resourceType);
}

function decodeData<T>(type: protobuf.Type, bytes: Uint8Array, fix: (object: Loose) => void): T {
  const object = type.toObject(type.decode(bytes), TO_OBJECT) as Loose;
  fix(object);
  return object as T;
}

export const decodeResourceType = (bytes: Uint8Array): ResourceTypeMessage =>
  decodeData(c1zTypes().ResourceType, bytes, withAnnotations);
export const decodeResource = (bytes: Uint8Array): ResourceMessage =>
  decodeData(c1zTypes().Resource, bytes, withAnnotations);
export const decodeEntitlement = (bytes: Uint8Array): EntitlementMessage =>
  decodeData(c1zTypes().Entitlement, bytes, fixEntitlement);
export const decodeGrant = (bytes: Uint8Array): GrantMessage =>
  decodeData(c1zTypes().Grant, bytes, (object) => {
    withAnnotations(object);
    fixEntitlement(object.entitlement as Loose | null);
    withAnnotations(object.principal as Loose | null);
  });
export const decodeGrantExpandable = (bytes: Uint8Array): GrantExpandableMessage =>
  decodeData(c1zTypes().GrantExpandable, bytes, () => undefined);

// ---- messages back to the model ------------------------------------------------------------------

const TRAIT_NAMES: Readonly<Record<string, C1Trait>> = {
  TRAIT_USER: 'USER',
  TRAIT_GROUP: 'GROUP',
  TRAIT_ROLE: 'ROLE',
  TRAIT_APP: 'APP',
  TRAIT_SECRET: 'SECRET',
};
const ACCOUNT_TYPE_NAMES: Readonly<Record<string, C1AccountType>> = {
  ACCOUNT_TYPE_HUMAN: 'HUMAN',
  ACCOUNT_TYPE_SERVICE: 'SERVICE',
  ACCOUNT_TYPE_SYSTEM: 'SYSTEM',
};
const TRAIT_MESSAGES = new Set([
  'c1.connector.v2.UserTrait',
  'c1.connector.v2.GroupTrait',
  'c1.connector.v2.RoleTrait',
]);

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

function refOf(id: ResourceIdMessage | null | undefined): C1ResourceRef {
  return { type: id?.resourceType ?? '', id: id?.resource ?? '' };
}

/** The model resource type of a ResourceType message. */
export function resourceTypeFromMessage(message: ResourceTypeMessage): C1ResourceType {
  const resourceType: C1ResourceType = {
    id: message.id,
    displayName: message.displayName,
    traits: message.traits.flatMap((name) => (TRAIT_NAMES[name] ? [TRAIT_NAMES[name]] : [])),
  };
  if (message.description !== '') resourceType.description = message.description;
  return resourceType;
}

/** The model resource of a Resource message: trait profile and account type back as fields, ExternalId as an annotation. */
export function resourceFromMessage(message: ResourceMessage): C1Resource {
  const resource: C1Resource = { ...refOf(message.id), displayName: message.displayName };
  if (message.parentResourceId) resource.parent = refOf(message.parentResourceId);
  if (message.description !== '') resource.description = message.description;
  const annotations: C1ResourceAnnotation[] = [];
  for (const annotation of message.annotations) {
    const body = annotation.message ?? {};
    if (TRAIT_MESSAGES.has(annotation.typeName)) {
      if (body.profile) resource.profile = body.profile as Record<string, unknown>;
      const accountType = ACCOUNT_TYPE_NAMES[text(body.accountType)];
      if (accountType) resource.accountType = accountType;
    } else if (annotation.typeName === 'c1.connector.v2.ChildResourceType') {
      annotations.push({ type: 'ChildResourceType', resourceTypeId: text(body.resourceTypeId) });
    } else if (annotation.typeName === 'c1.connector.v2.SkipEntitlementsAndGrants') {
      annotations.push({ type: 'SkipEntitlementsAndGrants' });
    }
  }
  if (message.externalId) {
    const externalId: C1ResourceAnnotation = { type: 'ExternalId', id: message.externalId.id };
    if (message.externalId.link !== '') externalId.link = message.externalId.link;
    if (message.externalId.description !== '') externalId.description = message.externalId.description;
    annotations.push(externalId);
  }
  resource.annotations = annotations;
  return resource;
}

/** The model entitlement of an Entitlement message. */
export function entitlementFromMessage(message: EntitlementMessage): C1Entitlement {
  return {
    id: message.id,
    resource: refOf(message.resource?.id),
    slug: message.slug,
    displayName: message.displayName,
    description: message.description,
    purpose: message.purpose === 'PURPOSE_VALUE_PERMISSION' ? 'permission' : 'assignment',
    grantableTo: message.grantableTo.map((resourceType) => resourceType.id),
  };
}

/** The model grant of a stored grant: the expansion column's GrantExpandable first, then the data's annotations. */
export function grantFromMessage(message: GrantMessage, expansion: GrantExpandableMessage | null): C1Grant {
  const annotations: C1GrantAnnotation[] = [];
  if (expansion) {
    const expandable: GrantExpandableAnnotation = {
      type: 'GrantExpandable',
      entitlementIds: expansion.entitlementIds,
    };
    if (expansion.shallow) expandable.shallow = true;
    if (expansion.resourceTypeIds.length > 0) expandable.resourceTypeIds = expansion.resourceTypeIds;
    annotations.push(expandable);
  }
  for (const annotation of message.annotations) {
    const body = annotation.message ?? {};
    if (annotation.typeName === 'c1.connector.v2.ExternalResourceMatchID') {
      annotations.push({ type: 'ExternalResourceMatchID', id: text(body.id) });
    } else if (annotation.typeName === 'c1.connector.v2.GrantImmutable') {
      const immutable: C1GrantAnnotation = { type: 'GrantImmutable' };
      if (text(body.sourceId) !== '') immutable.sourceId = text(body.sourceId);
      annotations.push(immutable);
    } else if (annotation.typeName === 'c1.connector.v2.GrantExpandable') {
      // A file written by a baton-sdk older than the expansion column keeps it in data.
      const legacy = body as unknown as GrantExpandableMessage;
      annotations.push({ type: 'GrantExpandable', entitlementIds: legacy.entitlementIds });
    }
  }
  return {
    id: message.id,
    entitlementId: message.entitlement?.id ?? '',
    resource: refOf(message.entitlement?.resource?.id),
    principal: refOf(message.principal?.id),
    annotations,
  };
}
