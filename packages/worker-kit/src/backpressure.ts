// Backpressure for a worker process: when Postgres or Redis is slow, taking more jobs only makes
// them slower (each job holds a pool connection and sends Redis calls), so the process stops taking
// new jobs until both recover. Running jobs carry on. Two signals, sampled every `checkEveryMs`:
// - Postgres: queries waiting for a pool connection (the pool's waiting count);
// - Redis: the round trip of a PING on the fail-fast connection (no answer counts as too slow).
// Intake pauses when either is over its limit and resumes once both are at half their limit or
// less, so a process on the edge does not flap with every sample.

/** What the process sees of its dependencies at one moment. */
export interface PressureSample {
  pgWaiting: number;
  redisLatencyMs: number;
}

export interface BackpressureLimits {
  /** Queries waiting for a Postgres pool connection above which intake pauses. */
  maxPgWaiting: number;
  /** PING round trip (ms) above which intake pauses. */
  maxRedisLatencyMs: number;
  checkEveryMs: number;
}

/** Which dependencies are over their limits in `sample` (empty: none). */
export function overLimits(sample: PressureSample, limits: BackpressureLimits): ('postgres' | 'redis')[] {
  const over: ('postgres' | 'redis')[] = [];
  if (sample.pgWaiting > limits.maxPgWaiting) over.push('postgres');
  if (sample.redisLatencyMs > limits.maxRedisLatencyMs) over.push('redis');
  return over;
}

/** True when `sample` is low enough for a paused process to take jobs again. */
export function hasRecovered(sample: PressureSample, limits: BackpressureLimits): boolean {
  return (
    sample.pgWaiting <= Math.floor(limits.maxPgWaiting / 2) &&
    sample.redisLatencyMs <= limits.maxRedisLatencyMs / 2
  );
}

export interface BackpressureOptions {
  limits: BackpressureLimits;
  sample: () => Promise<PressureSample>;
  pause: (over: ('postgres' | 'redis')[], sample: PressureSample) => Promise<void>;
  resume: (sample: PressureSample) => Promise<void>;
  /** Called when a check itself fails; the next one runs as usual. */
  onError?: (err: unknown) => void;
}

/** Samples on a timer and pauses or resumes intake; `check()` runs one sample (tests). */
export function createBackpressure(options: BackpressureOptions) {
  const { limits } = options;
  let paused = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function check(): Promise<boolean> {
    const sample = await options.sample();
    if (!paused) {
      const over = overLimits(sample, limits);
      if (over.length > 0) {
        paused = true;
        await options.pause(over, sample);
      }
    } else if (hasRecovered(sample, limits)) {
      paused = false;
      await options.resume(sample);
    }
    return paused;
  }

  const loop = () => {
    timer = setTimeout(() => {
      check()
        .catch((err: unknown) => options.onError?.(err))
        .finally(() => {
          if (!stopped) loop();
        });
    }, limits.checkEveryMs);
  };

  return {
    check,
    /** Samples every `checkEveryMs` until `stop()`. */
    start(): void {
      stopped = false;
      loop();
    },
    stop(): void {
      stopped = true;
      clearTimeout(timer);
    },
    isPaused: () => paused,
  };
}

export type Backpressure = ReturnType<typeof createBackpressure>;

/** Times one `ping`; one that fails or takes longer than `timeoutMs` counts as `timeoutMs`. */
export async function pingLatencyMs(ping: () => Promise<unknown>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  try {
    const answered = await Promise.race([ping().then(() => true), late.then(() => false)]);
    return answered ? performance.now() - started : timeoutMs;
  } catch {
    return timeoutMs;
  } finally {
    clearTimeout(timer);
  }
}
