// Fault injection and request counting, shared by the AWS endpoint and every Kubernetes endpoint.
// Operations are named `<service>:<Operation>` for AWS (`eks:ListAccessEntries`, `iam:ListRoles`)
// and `kube:<verb>:<resource>` for Kubernetes (`kube:list:rolebindings`, `kube:update:configmaps`).
// A rule's `target` is an operation name, optionally ending in `*` (`eks:*`, `kube:list:*`, `*`).
import { z } from 'zod';

export const faultRuleSchema = z
  .object({
    target: z.string().min(1),
    /** Only on this cluster's Kubernetes endpoint (or, for EKS calls, this cluster name). */
    cluster: z.string().min(1).optional(),
    latencyMs: z.number().int().min(0).max(60_000).optional(),
    jitterMs: z.number().int().min(0).max(60_000).optional(),
    /** Probability (0–1) of answering with a throttling error. */
    throttleRate: z.number().min(0).max(1).optional(),
    /** Requests beyond this many per second (sliding one-second window, per rule) are throttled. */
    throttleAbovePerSecond: z.number().int().min(1).optional(),
    /** Retry-After seconds sent with Kubernetes 429s. */
    retryAfterSeconds: z.number().int().min(0).max(3600).optional(),
    /** Probability (0–1) of answering with a server error. */
    errorRate: z.number().min(0).max(1).optional(),
    errorStatus: z.number().int().min(500).max(599).optional(),
    /** Kubernetes lists: a `continue` token is answered with 410 Gone. */
    expireContinue: z.boolean().optional(),
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
}

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
  window: number[];
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
  private random: () => number;

  constructor(rules: FaultRule[] = [], seed = 1) {
    this.random = prng(seed);
    this.setRules(rules);
  }

  setRules(rules: FaultRule[]): void {
    this.rules = rules.map((rule) => ({ rule, remaining: rule.count ?? Infinity, window: [] }));
  }

  addRules(rules: FaultRule[]): void {
    this.rules.push(...rules.map((rule) => ({ rule, remaining: rule.count ?? Infinity, window: [] })));
  }

  listRules(): FaultRule[] {
    return this.rules.filter((r) => r.remaining > 0).map((r) => r.rule);
  }

  /** Counts one request and decides which faults apply to it. */
  decide(op: string, cluster?: string, now = Date.now()): FaultDecision {
    this.counters.set(op, (this.counters.get(op) ?? 0) + 1);
    if (cluster !== undefined) {
      let perCluster = this.clusterCounters.get(cluster);
      if (!perCluster) this.clusterCounters.set(cluster, (perCluster = new Map<string, number>()));
      perCluster.set(op, (perCluster.get(op) ?? 0) + 1);
    }
    const decision: FaultDecision = { delayMs: 0, throttle: false, retryAfterSeconds: 1, expireContinue: false, conflict: false };
    for (const active of this.rules) {
      const { rule } = active;
      if (active.remaining <= 0 || !matches(rule.target, op)) continue;
      if (rule.cluster !== undefined && rule.cluster !== cluster) continue;
      active.remaining--;
      decision.delayMs += (rule.latencyMs ?? 0) + (rule.jitterMs ? Math.floor(this.random() * rule.jitterMs) : 0);
      if (rule.retryAfterSeconds !== undefined) decision.retryAfterSeconds = rule.retryAfterSeconds;
      if (rule.throttleRate !== undefined && this.random() < rule.throttleRate) decision.throttle = true;
      if (rule.throttleAbovePerSecond !== undefined) {
        const w = active.window;
        while (w.length > 0 && w[0]! <= now - 1000) w.shift();
        if (w.length >= rule.throttleAbovePerSecond) decision.throttle = true;
        else w.push(now);
      }
      if (rule.errorRate !== undefined && this.random() < rule.errorRate) decision.errorStatus = rule.errorStatus ?? 500;
      if (rule.expireContinue) decision.expireContinue = true;
      if (rule.conflictRate !== undefined && this.random() < rule.conflictRate) decision.conflict = true;
    }
    const injected = decision.throttle ? 'throttle' : decision.errorStatus ? 'error' : decision.conflict ? 'conflict' : undefined;
    if (injected) this.faultCounters.set(`${op}:${injected}`, (this.faultCounters.get(`${op}:${injected}`) ?? 0) + 1);
    return decision;
  }

  /** Request counts per operation, overall and per cluster, plus injected faults. */
  snapshot(): { operations: Record<string, number>; clusters: Record<string, Record<string, number>>; faults: Record<string, number> } {
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
  }
}

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
