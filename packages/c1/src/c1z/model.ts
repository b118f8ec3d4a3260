// What the c1z writer takes in and the reader gives back: the snapshot types of @eks-access/model
// (the one definition eks-core builds and the db stores), re-exported under the names this package
// has always used. A c1z may lack what our snapshots always carry (a resource type's description,
// a resource's profile and annotations, a grant's annotations), so those fields are optional here;
// the account type of a USER-trait resource is the one field of C1's own.
import type {
  Entitlement,
  Grant,
  GrantAnnotation,
  Resource,
  ResourceAnnotation,
  ResourceRef,
  ResourceTrait,
  ResourceType,
} from '@eks-access/model';

export type {
  Annotation as C1Annotation,
  ChildResourceTypeAnnotation,
  ExternalIdAnnotation,
  ExternalResourceMatchIdAnnotation,
  GrantAnnotation as C1GrantAnnotation,
  GrantExpandableAnnotation,
  GrantImmutableAnnotation,
  ResourceAnnotation as C1ResourceAnnotation,
  SkipEntitlementsAndGrantsAnnotation,
} from '@eks-access/model';

export type C1Trait = ResourceTrait;

/** Account type of a USER-trait resource (UserTrait.account_type). */
export type C1AccountType = 'HUMAN' | 'SERVICE' | 'SYSTEM';

export type C1ResourceRef = ResourceRef;

export type C1ResourceType = ResourceType;

export type C1Resource = Omit<Resource, 'profile' | 'annotations'> & {
  /** Goes into the trait annotation (UserTrait/GroupTrait/RoleTrait) when the type has one. */
  profile?: Resource['profile'];
  annotations?: readonly ResourceAnnotation[];
  /** For USER-trait resources; otherwise the writer's `accountTypes` option decides. */
  accountType?: C1AccountType;
};

export type C1Entitlement = Entitlement;

export type C1Grant = Omit<Grant, 'annotations' | 'sources' | 'conditions'> & {
  annotations?: readonly GrantAnnotation[];
};

/** A source the writer reads once, front to back: an array, a generator or an async generator. */
export type C1Source<T> = Iterable<T> | AsyncIterable<T>;

/** One cluster snapshot. Each function is called once and its items are written as they arrive. */
export interface C1Snapshot {
  resourceTypes: C1Source<C1ResourceType>;
  resources(): C1Source<C1Resource>;
  entitlements(): C1Source<C1Entitlement>;
  grants(): C1Source<C1Grant>;
}
