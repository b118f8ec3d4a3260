// The starting point of the AIMD rate limiters, shared by the in-process limiter (eks-core, the
// CLI and a single worker) and the Redis one (queue, a worker fleet) so both treat AWS and
// clusters alike. Keys are `aws:<account>:<region>:<service>` or `kube:<cluster arn>`.

export interface RateSettings {
  /** Starting rate, calls per second. */
  initialPerSecond: number;
  minPerSecond: number;
  maxPerSecond: number;
  /** Calls allowed back-to-back before the rate applies. */
  burst: number;
  /** Rate gained per second of successful calls. */
  increasePerSecond: number;
  /** Factor applied on a throttle. */
  decrease: number;
}

export const DEFAULT_RATES: Readonly<Record<'aws' | 'kube', Readonly<RateSettings>>> = {
  // AWS publishes no per-API rates for EKS; 50/s is a middle guess. Recovery is quick (5/s per
  // second) and the back-off gentle (×0.8), so a throttle costs about two seconds of headroom
  // rather than most of a minute, while a busy account still settles below its limit.
  aws: {
    initialPerSecond: 50,
    minPerSecond: 1,
    maxPerSecond: 200,
    burst: 10,
    increasePerSecond: 5,
    decrease: 0.8,
  },
  kube: {
    initialPerSecond: 50,
    minPerSecond: 1,
    maxPerSecond: 400,
    burst: 20,
    increasePerSecond: 5,
    decrease: 0.5,
  },
};

/** The default settings for a key: `kube:<clusterArn>` keys get the Kubernetes ones, others AWS's. */
export function defaultSettingsFor(key: string): Readonly<RateSettings> {
  return key.startsWith('kube:') ? DEFAULT_RATES.kube : DEFAULT_RATES.aws;
}
