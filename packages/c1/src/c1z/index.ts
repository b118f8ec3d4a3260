// c1z v1 files: the writer the product uses and the reader for tests, the stand-in C1 and tools.
export { writeC1z, type WriteC1zOptions, type WriteC1zResult } from './write.js';
export { syncTypeOf, type C1SyncOptions, type C1SyncType } from './sync-options.js';
export {
  openC1z,
  readC1z,
  type AssetRow,
  type C1zContents,
  type C1zFileInfo,
  type C1zSnapshotContents,
  type ConnectorSessionRow,
  type EntitlementRow,
  type GrantRow,
  type OpenedC1z,
  type ReadC1zOptions,
  type ResourceRow,
  type ResourceTypeRow,
  type SqliteObject,
  type SyncRunRow,
} from './read.js';
export { isKsuid, newKsuid, parseKsuid } from './ksuid.js';
export { C1zError, isC1zError, type C1zErrorCode } from './errors.js';
export { C1Z_MAGIC, C1Z_SCHEMA, C1Z_TABLES, formatC1zTime, type C1zTable } from './schema.js';
export {
  parseZstdFrameHeader,
  walkZstdFrame,
  ZSTD_MAGIC,
  type ZstdFrameHeader,
  type ZstdFrameLayout,
} from './zstd-frame.js';
export {
  decodeAnnotation,
  decodeEntitlement,
  decodeGrant,
  decodeGrantExpandable,
  decodeResource,
  decodeResourceType,
  encodeEntitlement,
  encodeGrant,
  encodeResource,
  encodeResourceType,
  entitlementFromMessage,
  grantFromMessage,
  resourceFromMessage,
  resourceTypeFromMessage,
  type AnnotationMessage,
  type EncodedGrant,
  type EntitlementMessage,
  type GrantExpandableMessage,
  type GrantMessage,
  type ResourceIdMessage,
  type ResourceMessage,
  type ResourceTypeMessage,
} from './messages.js';
export { TYPE_URL_PREFIX, typeNameOf, typeUrlOf } from './proto.js';
export type * from './model.js';
