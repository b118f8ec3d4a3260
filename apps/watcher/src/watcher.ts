// The watcher replica: which clusters it watches. Every WATCH_BALANCE_MS it announces itself, renews
// its leases (a lost lease stops that cluster's feed at once), and moves towards its fair share of
// the enabled clusters: ceil(clusters / live replicas), capped by WATCH_MAX_CLUSTERS. Surplus
// clusters are released for a new replica to take; unowned ones (a dead replica's, after their
// leases expire, or new registrations) are taken. Replicas try clusters in an order of their own
// (a hash of replica and cluster), so two starting at once do not contend for the same ones.
import { createHash } from 'node:crypto';
import { listClusters, type Database } from '@eks-access/db';
import { fairShare, type LeaseTable, type Logger } from '@eks-access/queue';
import { startClusterFeed, type ClusterFeed, type ClusterFeedDeps } from './cluster-feed.js';

export interface WatcherOptions {
  database: Database;
  leases: LeaseTable;
  logger: Logger;
  feedDeps: Omit<ClusterFeedDeps, 'startSlots'>;
  balanceMs: number;
  maxClusters: number;
  /** Full reads of clusters at once while feeds start. */
  startConcurrency?: number;
}

export interface Watcher {
  /** The clusters this replica watches now, with their feeds. */
  feeds(): ReadonlyMap<string, ClusterFeed>;
  /** One balance round (the timer runs them; tests call it directly). */
  balance(): Promise<void>;
  /** Stops the feeds and releases the leases, so other replicas take over at once. */
  stop(): Promise<void>;
  /** Stops without releasing anything: what a crash looks like to the other replicas (tests). */
  crash(): Promise<void>;
}

function createSlots(limit: number): ClusterFeedDeps['startSlots'] {
  let active = 0;
  const waiting: (() => void)[] = [];
  return {
    async run(fn) {
      if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      try {
        return await fn();
      } finally {
        active--;
        waiting.shift()?.();
      }
    },
  };
}

async function enabledClusterIds(database: Database): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listClusters(
      database,
      { enabled: true },
      { limit: 500, ...(cursor ? { cursor } : {}) },
    );
    for (const c of page.items) ids.push(c.id);
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

/** Starts the balance loop of one watcher replica. */
export function startWatcher(options: WatcherOptions): Watcher {
  const { leases, logger } = options;
  const feeds = new Map<string, ClusterFeed>();
  const deps: ClusterFeedDeps = {
    ...options.feedDeps,
    startSlots: createSlots(options.startConcurrency ?? 8),
  };
  const order = (id: string) => createHash('sha1').update(`${leases.replicaId}:${id}`).digest('hex');
  let stopped = false;
  let running: Promise<void> | undefined;

  const drop = async (id: string, release: boolean) => {
    const feed = feeds.get(id);
    feeds.delete(id);
    await feed?.stop();
    if (release) await leases.release(id);
  };

  async function balance(): Promise<void> {
    if (stopped) return;
    const replicas = await leases.heartbeat();
    const lost = await leases.renew([...feeds.keys()]);
    for (const id of lost) {
      logger.warn({ clusterId: id }, 'lease on cluster lost; stopping its watch');
      await drop(id, false);
    }
    const clusters = await enabledClusterIds(options.database);
    const enabled = new Set(clusters);
    for (const id of [...feeds.keys()]) if (!enabled.has(id)) await drop(id, true);
    const share = Math.min(options.maxClusters, fairShare(clusters.length, replicas));
    if (feeds.size > share) {
      const surplus = [...feeds.keys()]
        .sort((a, b) => order(b).localeCompare(order(a)))
        .slice(0, feeds.size - share);
      for (const id of surplus) await drop(id, true);
    }
    if (feeds.size < share) {
      const candidates = clusters
        .filter((id) => !feeds.has(id))
        .sort((a, b) => order(a).localeCompare(order(b)));
      for (const id of candidates) {
        if (feeds.size >= share || stopped) break;
        if (await leases.tryAcquire(id)) feeds.set(id, startClusterFeed(deps, id));
      }
    }
  }

  const timer = setInterval(() => {
    if (running) return;
    running = balance()
      .catch((err: unknown) => logger.warn({ err }, 'balancing clusters failed; next round retries'))
      .finally(() => {
        running = undefined;
      });
  }, options.balanceMs);

  return {
    feeds: () => feeds,
    async balance() {
      while (running) await running;
      running = balance().finally(() => {
        running = undefined;
      });
      await running;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
      await Promise.all([...feeds.keys()].map((id) => drop(id, true)));
      await leases.leave().catch(() => undefined);
    },
    async crash() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
      await Promise.all([...feeds.values()].map((f) => f.stop()));
      feeds.clear();
    },
  };
}
