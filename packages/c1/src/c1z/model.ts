// What the c1z writer takes in. These types are structural twins of eks-core's snapshot model
// (ResourceType, Resource, Entitlement, Grant and their annotations) and of the db snapshot rows,
// so callers pass those objects straight in; this package depends on neither.

export type C1Trait = 'USER' | 'GROUP' | 'ROLE' | 'APP' | 'SECRET';

/** Account type of a USER-trait resource (UserTrait.account_type). */
export type C1AccountType = 'HUMAN' | 'SERVICE' | 'SYSTEM';

export interface C1ResourceRef {
  type: string;
  id: string;
}

export interface C1ResourceType {
  id: string;
  displayName: string;
  traits: readonly C1Trait[];
  description?: string;
}

/** On a grant to a placeholder principal: C1 swaps in the external connector's resource with this id. */
export interface ExternalResourceMatchIdAnnotation {
  type: 'ExternalResourceMatchID';
  id: string;
}

/** Holders of these entitlements inherit the grant. */
export interface GrantExpandableAnnotation {
  type: 'GrantExpandable';
  entitlementIds: readonly string[];
  shallow?: boolean;
  resourceTypeIds?: readonly string[];
}

/** Resources of this type are listed under the annotated resource. */
export interface ChildResourceTypeAnnotation {
  type: 'ChildResourceType';
  resourceTypeId: string;
}

/** The id in the source system when it differs from the resource id; written to Resource.external_id. */
export interface ExternalIdAnnotation {
  type: 'ExternalId';
  id: string;
  link?: string;
  description?: string;
}

export interface SkipEntitlementsAndGrantsAnnotation {
  type: 'SkipEntitlementsAndGrants';
}

/** The grant is observed, not provisionable through the connector. */
export interface GrantImmutableAnnotation {
  type: 'GrantImmutable';
  sourceId?: string;
}

export type C1ResourceAnnotation =
  ChildResourceTypeAnnotation | ExternalIdAnnotation | SkipEntitlementsAndGrantsAnnotation;

export type C1GrantAnnotation =
  ExternalResourceMatchIdAnnotation | GrantExpandableAnnotation | GrantImmutableAnnotation;

export type C1Annotation = C1ResourceAnnotation | C1GrantAnnotation;

export interface C1Resource {
  type: string;
  id: string;
  displayName: string;
  parent?: C1ResourceRef;
  description?: string;
  /** Goes into the trait annotation (UserTrait/GroupTrait/RoleTrait) when the type has one. */
  profile?: Readonly<Record<string, unknown>>;
  annotations?: readonly C1ResourceAnnotation[];
  /** For USER-trait resources; otherwise the writer's `accountTypes` option decides. */
  accountType?: C1AccountType;
}

export interface C1Entitlement {
  id: string;
  resource: C1ResourceRef;
  slug: string;
  displayName: string;
  description: string;
  purpose: 'assignment' | 'permission';
  grantableTo: readonly string[];
}

export interface C1Grant {
  id: string;
  entitlementId: string;
  /** The resource the entitlement belongs to. */
  resource: C1ResourceRef;
  principal: C1ResourceRef;
  annotations?: readonly C1GrantAnnotation[];
}

/** A source the writer reads once, front to back: an array, a generator or an async generator. */
export type C1Source<T> = Iterable<T> | AsyncIterable<T>;

/** One cluster snapshot. Each function is called once and its items are written as they arrive. */
export interface C1Snapshot {
  resourceTypes: C1Source<C1ResourceType>;
  resources(): C1Source<C1Resource>;
  entitlements(): C1Source<C1Entitlement>;
  grants(): C1Source<C1Grant>;
}
