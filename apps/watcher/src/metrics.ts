// The watcher's own metrics, on the worker's registry (/metrics).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ClusterFeed } from './cluster-feed.js';

/** Registers the watcher's metrics; `feeds` is read at scrape time. */
export function createWatcherMetrics(registry: Registry, feeds: () => ReadonlyMap<string, ClusterFeed>) {
  const applied = new Counter({
    name: 'eks_access_watch_changes_applied_total',
    help: 'Watched changes applied to current snapshots (one watch run each)',
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'eks_access_watch_apply_seconds',
    help: 'From the first watched event of a change to its commit in Postgres',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  const events = new Counter({
    name: 'eks_access_watch_change_events_total',
    help: 'Change events (grant, revoke, resource change, finding) appended by watched changes',
    registers: [registry],
  });
  const rebases = new Counter({
    name: 'eks_access_watch_rebases_total',
    help: 'Times a feed re-based on the stored snapshot (start, or a full sync landed)',
    registers: [registry],
  });
  const stat = (name: string, help: string, key: keyof NonNullable<ReturnType<ClusterFeed['stats']>>) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        let sum = 0;
        for (const feed of feeds().values()) sum += feed.stats()?.[key] ?? 0;
        this.set(sum);
      },
    });
  new Gauge({
    name: 'eks_access_watch_clusters',
    help: 'Clusters this replica watches, by feed state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const feed of feeds().values()) this.inc({ state: feed.state() });
    },
  });
  stat('eks_access_watch_events', 'Watch events received by the current feeds', 'events');
  stat(
    'eks_access_watch_reconnects',
    'Watch streams reopened after an error by the current feeds',
    'reconnects',
  );
  stat('eks_access_watch_relists', 'Kinds listed again after a 410 Expired by the current feeds', 'relists');
  stat('eks_access_watch_eks_polls', 'EKS access-entry polls by the current feeds', 'eksPolls');
  return {
    onApplied(info: { latencyMs: number; events: number }) {
      applied.inc();
      events.inc(info.events);
      latency.observe(info.latencyMs / 1000);
    },
    onRebase() {
      rebases.inc();
    },
  };
}
