// Why a sync run was started ('watch': an incremental run the watcher wrote). Postgres checks the
// column against this list, the queue validates job payloads with it, and the API and the uploader
// name their runs with it.
export const SYNC_TRIGGERS = ['api', 'schedule', 'c1', 'bulk', 'provision', 'watch'] as const;
export type SyncTrigger = (typeof SYNC_TRIGGERS)[number];

/** True for a known sync trigger. */
export function isSyncTrigger(value: string): value is SyncTrigger {
  return (SYNC_TRIGGERS as readonly string[]).includes(value);
}
