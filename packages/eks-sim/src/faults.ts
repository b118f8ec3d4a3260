// Fault injection and request counting, shared by the AWS endpoint and every Kubernetes endpoint.
// Operations are named `<service>:<Operation>` for AWS (`eks:ListAccessEntries`, `iam:ListRoles`)
// and `kube:<verb>:<resource>` for Kubernetes (`kube:list:rolebindings`, `kube:update:configmaps`).
// A rule's `target` is an operation name, optionally ending in `*` (`eks:*`, `kube:list:*`, `*`).
//
// Rate limits (`throttleAbovePerSecond`) count in one window per rule by default; `per: account`,
// `per: account-region` or `per: cluster` keeps one window per AWS account, per account in each
// region (how AWS counts an account's API calls: each region has its own limits), or per cluster
// (each API server limits its own load). AWS calls count against the account of the calling
// credentials and the region they were signed for; Kubernetes calls against the cluster's account.
//
// Besides counts, every request feeds an observed-rate tracker per account and per cluster (by
// service): the most requests received, and the most served (not throttled), in any one-second
// window. Benchmarks read it to show that a fleet of workers stayed within a limit.
import { z } from 'zod';

export const faultRuleSchema = z
  .object({
    target: z.string().min(1),
    /** Only on this cluster's Kubernetes endpoint (or, for EKS calls, this cluster name). */
    cluster: z.string().min(1).optional(),
    /** Only for calls counted against this AWS account. */
    account: z
      .string()
      .regex(/^\d{12}$/, 'a 12-digit account id')
      .optional(),
    /** Scope of `throttleAbovePerSecond`: one window for the rule (default), per account, or per cluster. */
    per: z.enum(['rule', 'account', 'account-region', 'cluster']).optional(),
    latencyMs: z.number().int().min(0).max(60_000).optional(),
    jitterMs: z.number().int().min(0).max(60_000).optional(),
    /** Probability (0–1) of answering with a throttling error. */
    throttleRate: z.number().min(0).max(1).optional(),
    /** Requests beyond this many per second (sliding one-second window, scoped by `per`) are throttled. */
    throttleAbovePerSecond: z.number().int().min(1).optional(),
    /** Retry-After seconds sent with Kubernetes 429s. */
    retryAfterSeconds: z.number().int().min(0).max(3600).optional(),
    /** Probability (0–1) of answering with a server error. */
    errorRate: z.number().min(0).max(1).optional(),
    errorStatus: z.number().int().min(500).max(599).optional(),
    /** Kubernetes lists: a `continue` token is answered with 410 Gone. */
    expireContinue: z.boolean().optional(),
    /**
     * Kubernetes watches: probability (0–1) that a watch connection is cut (the TCP connection
     * destroyed, no final chunk) at a random moment within `dropWithinMs` of its start.
     */
    dropWatchRate: z.number().min(0).max(1).optional(),
    /** Window for `dropWatchRate` (default 10,000 ms). */
    dropWithinMs: z.number().int().min(1).max(3_600_000).optional(),
    /**
     * Kubernetes watches: probability (0–1) that a watch is answered with a 410 Expired ERROR
     * event at once, as after a compaction; 1 with `count` makes a "410 storm".
     */
    expireWatchRate: z.number().min(0).max(1).optional(),
    /** Kubernetes writes: answered with 409 Conflict as if another writer got there first. */
    conflictRate: z.number().min(0).max(1).optional(),
    /** Apply to the next N matching requests only, then retire the rule. */
    count: z.number().int().min(1).optional(),
  })
  .strict();

export type FaultRule = z.infer<typeof faultRuleSchema>;

export interface FaultDecision {
  delayMs: number;
  throttle: boolean;
  retryAfterSeconds: number;
  errorStatus?: number;
  expireContinue: boolean;
  conflict: boolean;
  /** A watch: cut its connection after this many milliseconds. */
  dropWatchAfterMs?: number;
  /** A watch: answer with 410 Expired at once. */
  expireWatch?: boolean;
}

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
  /** Served request times of the last second, per scope (`per`: the rule, an account or a cluster). */
  windows: Map<string, number[]>;
}

/** Who a request counts against: the cluster it names and the AWS account. */
export interface FaultScope {
  cluster?: string | undefined;
  account?: string | undefined;
  /** The region an AWS call was signed for. */
  region?: string | undefined;
}

/** Observed call rates of one account or cluster for one service. */
export interface RateStats {
  calls: number;
  throttled: number;
  /** Most requests received in any one-second window (throttled ones included). */
  peakPerSecond: number;
  /** Most requests served (not throttled) in any one-second window. */
  peakServedPerSecond: number;
}

export interface RateSnapshot {
  windowMs: number;
  /** account id → service (`eks`, `iam`, `sts`, `kube`…) → rates. */
  accounts: Record<string, Record<string, RateStats>>;
  /** cluster name → service → rates. */
  clusters: Record<string, Record<string, RateStats>>;
  /** `<account>/<region>` → service → rates, for AWS calls (which carry a region). */
  accountRegions?: Record<string, Record<string, RateStats>>;
}

const WINDOW_MS = 1000;

class RateTrack {
  private readonly received: number[] = [];
  private readonly served: number[] = [];
  readonly stats: RateStats = { calls: 0, throttled: 0, peakPerSecond: 0, peakServedPerSecond: 0 };

  record(now: number, throttled: boolean): void {
    this.stats.calls++;
    this.stats.peakPerSecond = Math.max(this.stats.peakPerSecond, push(this.received, now));
    if (throttled) this.stats.throttled++;
    else this.stats.peakServedPerSecond = Math.max(this.stats.peakServedPerSecond, push(this.served, now));
  }
}

/** Appends `now` to a one-second window of times and returns how many it holds. */
function push(window: number[], now: number): number {
  trim(window, now);
  window.push(now);
  return window.length;
}

function trim(window: number[], now: number): void {
  let drop = 0;
  while (drop < window.length && window[drop]! <= now - WINDOW_MS) drop++;
  if (drop > 0) window.splice(0, drop);
}

function matches(target: string, op: string): boolean {
  return target.endsWith('*') ? op.startsWith(target.slice(0, -1)) : target === op;
}

/** Deterministic PRNG (mulberry32) so fault runs are repeatable when seeded. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Faults {
  private rules: ActiveRule[] = [];
  private readonly counters = new Map<string, number>();
  private readonly clusterCounters = new Map<string, Map<string, number>>();
  private readonly faultCounters = new Map<string, number>();
  private readonly rateTracks = new Map<string, RateTrack>();
  private random: () => number;

  constructor(rules: FaultRule[] = [], seed = 1) {
    this.random = prng(seed);
    this.setRules(rules);
  }

  setRules(rules: FaultRule[]): void {
    this.rules = rules.map((rule) => ({ rule, remaining: rule.count ?? Infinity, windows: new Map() }));
  }

  addRules(rules: FaultRule[]): void {
    this.rules.push(
      ...rules.map((rule) => ({ rule, remaining: rule.count ?? Infinity, windows: new Map() })),
    );
  }

  listRules(): FaultRule[] {
    return this.rules.filter((r) => r.remaining > 0).map((r) => r.rule);
  }

  /** Counts one request and decides which faults apply to it. */
  decide(op: string, scope: FaultScope = {}, now = Date.now()): FaultDecision {
    const { cluster, account, region } = scope;
    this.counters.set(op, (this.counters.get(op) ?? 0) + 1);
    if (cluster !== undefined) {
      let perCluster = this.clusterCounters.get(cluster);
      if (!perCluster) this.clusterCounters.set(cluster, (perCluster = new Map<string, number>()));
      perCluster.set(op, (perCluster.get(op) ?? 0) + 1);
    }
    const decision: FaultDecision = {
      delayMs: 0,
      throttle: false,
      retryAfterSeconds: 1,
      expireContinue: false,
      conflict: false,
    };
    for (const active of this.rules) {
      const { rule } = active;
      if (active.remaining <= 0 || !matches(rule.target, op)) continue;
      if (rule.cluster !== undefined && rule.cluster !== cluster) continue;
      if (rule.account !== undefined && rule.account !== account) continue;
      active.remaining--;
      decision.delayMs +=
        (rule.latencyMs ?? 0) + (rule.jitterMs ? Math.floor(this.random() * rule.jitterMs) : 0);
      if (rule.retryAfterSeconds !== undefined) decision.retryAfterSeconds = rule.retryAfterSeconds;
      if (rule.throttleRate !== undefined && this.random() < rule.throttleRate) decision.throttle = true;
      if (rule.throttleAbovePerSecond !== undefined) {
        const per = rule.per ?? 'rule';
        // A call with no account or cluster to count against shares one window per rule.
        const scopeKey =
          per === 'account'
            ? (account ?? '')
            : per === 'account-region'
              ? `${account ?? ''}/${region ?? ''}`
              : per === 'cluster'
                ? (cluster ?? '')
                : '';
        let w = active.windows.get(scopeKey);
        if (!w) active.windows.set(scopeKey, (w = []));
        trim(w, now);
        if (w.length >= rule.throttleAbovePerSecond) decision.throttle = true;
        else w.push(now);
      }
      if (rule.errorRate !== undefined && this.random() < rule.errorRate)
        decision.errorStatus = rule.errorStatus ?? 500;
      if (rule.expireContinue) decision.expireContinue = true;
      if (rule.conflictRate !== undefined && this.random() < rule.conflictRate) decision.conflict = true;
      if (rule.dropWatchRate !== undefined && this.random() < rule.dropWatchRate) {
        decision.dropWatchAfterMs = Math.floor(this.random() * (rule.dropWithinMs ?? 10_000));
      }
      if (rule.expireWatchRate !== undefined && this.random() < rule.expireWatchRate)
        decision.expireWatch = true;
    }
    const injected = decision.throttle
      ? 'throttle'
      : decision.errorStatus
        ? 'error'
        : decision.conflict
          ? 'conflict'
          : decision.expireWatch
            ? 'expire-watch'
            : decision.dropWatchAfterMs !== undefined
              ? 'drop-watch'
              : undefined;
    if (injected)
      this.faultCounters.set(`${op}:${injected}`, (this.faultCounters.get(`${op}:${injected}`) ?? 0) + 1);
    const service = op.slice(0, op.indexOf(':'));
    if (account !== undefined) this.track(`a\n${account}\n${service}`).record(now, decision.throttle);
    if (cluster !== undefined) this.track(`c\n${cluster}\n${service}`).record(now, decision.throttle);
    if (account !== undefined && region !== undefined)
      this.track(`r\n${account}/${region}\n${service}`).record(now, decision.throttle);
    return decision;
  }

  private track(key: string): RateTrack {
    let track = this.rateTracks.get(key);
    if (!track) this.rateTracks.set(key, (track = new RateTrack()));
    return track;
  }

  /** Observed call rates per account and per cluster, by service, since the last reset. */
  rates(): RateSnapshot {
    const out: RateSnapshot = { windowMs: WINDOW_MS, accounts: {}, clusters: {} };
    for (const [key, track] of [...this.rateTracks].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const [kind, name, service] = key.split('\n') as [string, string, string];
      const group = kind === 'a' ? out.accounts : kind === 'c' ? out.clusters : (out.accountRegions ??= {});
      (group[name] ??= {})[service] = { ...track.stats };
    }
    return out;
  }

  /** Request counts per operation, overall and per cluster, plus injected faults. */
  snapshot(): {
    operations: Record<string, number>;
    clusters: Record<string, Record<string, number>>;
    faults: Record<string, number>;
  } {
    const clusters: Record<string, Record<string, number>> = {};
    for (const [c, m] of this.clusterCounters) clusters[c] = Object.fromEntries([...m].sort());
    return {
      operations: Object.fromEntries([...this.counters].sort()),
      clusters,
      faults: Object.fromEntries([...this.faultCounters].sort()),
    };
  }

  resetCounters(): void {
    this.counters.clear();
    this.clusterCounters.clear();
    this.faultCounters.clear();
    this.rateTracks.clear();
  }
}

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
