// The start-up every queue worker process shares (sync worker, provisioner, uploader), written once:
// a logger, the Postgres pool, two Redis connections (a blocking one that waits out outages for the
// BullMQ worker; a fail-fast one for the producer, the shared rate limiter and the locks, as the
// queue package requires), the consumer with per-job metrics, janitors on a timer, the health and
// metrics server, and a stop that hands running jobs back and closes everything in order.
//
// With `backpressure` limits, the process stops taking new jobs while Postgres's pool has too many
// queries waiting or Redis answers too slowly, and takes them again once both recover
// (backpressure.ts); readiness stays green meanwhile, since holding back is a choice, not a fault.
//
// Readiness means the process can do its work now: Postgres answers (on a connection of its own, so
// a pool busy with jobs is not mistaken for an outage), Redis answers, and the BullMQ worker is
// running on a live connection. It follows those dependencies both ways without a restart.
import { createDb, type Database } from '@eks-access/db';
import {
  LockBusyError,
  createConsumer,
  createLockManager,
  createProducer,
  createRedisConnection,
  createRedisRateLimiter,
  type Consumer,
  type JobHandlers,
  type LockManager,
  type Logger,
  type Producer,
  type ProducerOptions,
  type QueueName,
  type RedisConnection,
  type RedisRateLimiter,
  type RedisRateLimiterOptions,
} from '@eks-access/queue';
import { createJobHealthMetrics, type JobHealthMetrics } from '@eks-access/runtime';
import { pino } from 'pino';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { createBackpressure, pingLatencyMs, type BackpressureLimits } from './backpressure.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import { createJobMetrics } from './job-metrics.js';

/** The settings every worker's config has (runtime's `workerEnv` and `healthEnv`). */
export interface WorkerKitConfig {
  DATABASE_URL: string;
  REDIS_URL: string;
  ENCRYPTION_KEY: string;
  QUEUE_PREFIX: string;
  LOG_LEVEL: string;
  SHUTDOWN_TIMEOUT_MS: number;
  WORKER_ID: string;
  JOB_LOCK_MS: number;
  STALLED_CHECK_MS: number;
  HEALTH_HOST: string;
  HEALTH_PORT: number;
}

export interface WorkerProcessOptions<Q extends QueueName> {
  /** `sync-worker`, `provisioner`, `uploader`: the log's `service`, connection and application names. */
  service: string;
  config: WorkerKitConfig;
  /** The queue it consumes; a process that consumes none (the watcher) leaves it out. */
  queue?: Q;
  /** Readiness of a process without a queue consumer (the watcher): true when it does its work. */
  ready?: () => boolean;
  /** Jobs run at once by this process. */
  concurrency: number;
  /** Postgres pool size: at least one per concurrent job, plus what timers use. */
  maxConnections: number;
  /** Rate settings per limiter key (default: the queue package's). */
  rateSettings?: RedisRateLimiterOptions['settingsFor'];
  /** Retry policies that differ from the catalogue's. */
  producerPolicies?: ProducerOptions['policies'];
  /** When given, intake pauses while Postgres or Redis is over these limits. */
  backpressure?: BackpressureLimits;
}

export interface WorkerProcess<Q extends QueueName> {
  logger: Logger & pino.Logger;
  database: Database;
  producer: Producer;
  limiter: RedisRateLimiter;
  locks: LockManager;
  /** The fail-fast Redis connection the producer, limiter and locks use (for more of the same kind). */
  redis: RedisConnection;
  /** The registry /metrics serves; register the process's own metrics here. */
  registry: Registry;
  /** Stalled and dead-lettered jobs, janitor repairs (already wired to the consumer). */
  jobHealth: JobHealthMetrics;
  health: HealthServer;
  /** Starts consuming the queue with `handlers`; resolves once the worker takes jobs. */
  consume(handlers: JobHandlers<Q>): Promise<Consumer>;
  /**
   * Runs `task` every `everyMs` (the janitors). A failure is logged and the next tick tries again;
   * another process holding the task's lock (LockBusyError) is expected and logged at debug.
   */
  every(what: string, everyMs: number, task: () => Promise<unknown>): void;
  /** Adds a step to run first on stop (stop service loops before the consumer closes). */
  onStop(step: () => Promise<void> | void): void;
  /** Stops taking jobs, lets running ones finish for SHUTDOWN_TIMEOUT_MS, hands back the rest, closes. */
  stop: (signal: string) => Promise<void>;
}

/** Opens everything a worker process needs and starts its health server. */
export async function startWorkerProcess<Q extends QueueName>(
  options: WorkerProcessOptions<Q>,
): Promise<WorkerProcess<Q>> {
  const { config, service } = options;
  const logger = pino({ level: config.LOG_LEVEL, base: { service, worker: config.WORKER_ID } });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const jobHealth = createJobHealthMetrics(registry);
  const jobMetrics = createJobMetrics(registry);
  const cleanups: (() => Promise<unknown> | void)[] = [];
  const stopSteps: (() => Promise<void> | void)[] = [];
  const timers: NodeJS.Timeout[] = [];
  let consumer: Consumer | undefined;
  let producerConnection: RedisConnection | undefined;

  const database = createDb({
    url: config.DATABASE_URL,
    encryptionKey: config.ENCRYPTION_KEY,
    maxConnections: options.maxConnections,
    applicationName: `eks-access-${service}`,
    onPoolError: (err) => logger.warn({ err }, 'postgres connection dropped'),
  });
  cleanups.push(() => database.close());
  // Readiness gets a connection of its own: a pool whose connections all run jobs is not an outage.
  const probeDb = createDb({
    url: config.DATABASE_URL,
    encryptionKey: config.ENCRYPTION_KEY,
    maxConnections: 1,
    connectionTimeoutMs: 2000,
    queryTimeoutMs: 2000,
    applicationName: `eks-access-${service}-health`,
    onPoolError: () => undefined,
  });
  cleanups.push(() => probeDb.close());

  // Up first, so liveness answers while the connections open; readiness stays red until they do.
  const health = await startHealthServer({
    host: config.HEALTH_HOST,
    port: config.HEALTH_PORT,
    logger,
    checks: {
      postgres: () => probeDb.pool.query('select 1'),
      redis: () => {
        if (!producerConnection) throw new Error('not connected yet');
        return producerConnection.ping();
      },
      worker: () => (options.ready ? options.ready() : (consumer?.isUsable() ?? false)),
    },
    metrics: async () => {
      // Queue counts come from Redis; when it does not answer the process's own metrics still do.
      const queueText =
        producerConnection && options.queue
          ? await producer.prometheusMetrics(options.queue).catch(() => '')
          : '';
      return { contentType: registry.contentType, text: `${await registry.metrics()}${queueText}\n` };
    },
  });
  cleanups.push(() => health.close());

  let producer: Producer;
  let limiter: RedisRateLimiter;
  let workerConnection: RedisConnection;
  try {
    workerConnection = await createRedisConnection({
      url: config.REDIS_URL,
      role: 'worker',
      logger,
      name: `${service}-${config.WORKER_ID}`,
    });
    cleanups.push(() => workerConnection.disconnect());
    producerConnection = await createRedisConnection({
      url: config.REDIS_URL,
      role: 'producer',
      logger,
      name: `${service}-producer-${config.WORKER_ID}`,
    });
    const fastConnection = producerConnection;
    cleanups.push(() => fastConnection.disconnect());
    producer = createProducer({
      connection: producerConnection,
      prefix: config.QUEUE_PREFIX,
      logger,
      ...(options.producerPolicies ? { policies: options.producerPolicies } : {}),
    });
    cleanups.push(() => producer.close());
    limiter = createRedisRateLimiter({
      connection: producerConnection,
      logger,
      prefix: config.QUEUE_PREFIX,
      ...(options.rateSettings ? { settingsFor: options.rateSettings } : {}),
    });
    cleanups.push(() => limiter.close());
  } catch (err) {
    await closeAll(cleanups, logger);
    throw err;
  }
  const locks = createLockManager({ connection: producerConnection, prefix: config.QUEUE_PREFIX });

  const intakePaused = new Gauge({
    name: 'eks_access_worker_intake_paused',
    help: 'Whether this process has stopped taking new jobs because Postgres or Redis is slow (1) or not (0)',
    registers: [registry],
  });
  intakePaused.set(0);

  function startBackpressure(running: Consumer, limits: BackpressureLimits): void {
    const fast = producerConnection!;
    const backpressure = createBackpressure({
      limits,
      sample: async () => ({
        pgWaiting: database.pool.waitingCount,
        // Waiting longer than a few times the limit says nothing more.
        redisLatencyMs: await pingLatencyMs(() => fast.ping(), limits.maxRedisLatencyMs * 4),
      }),
      pause: async (over, sample) => {
        logger.warn({ over, ...sample, limits }, 'dependencies are slow; not taking new jobs');
        intakePaused.set(1);
        await running.pauseIntake();
      },
      resume: async (sample) => {
        logger.info(sample, 'dependencies recovered; taking jobs again');
        intakePaused.set(0);
        await running.resumeIntake();
      },
      onError: (err) => logger.warn({ err }, 'backpressure check failed'),
    });
    backpressure.start();
    stopSteps.unshift(() => backpressure.stop());
  }

  let stopping: Promise<void> | undefined;
  return {
    logger,
    database,
    producer,
    limiter,
    locks,
    redis: producerConnection,
    registry,
    jobHealth,
    health,
    async consume(handlers) {
      if (!options.queue) throw new Error(`${service} has no queue to consume`);
      consumer = createConsumer({
        connection: workerConnection,
        queue: options.queue,
        concurrency: options.concurrency,
        logger,
        shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
        lockDurationMs: config.JOB_LOCK_MS,
        stalledIntervalMs: config.STALLED_CHECK_MS,
        prefix: config.QUEUE_PREFIX,
        events: { ...jobHealth.events, ...jobMetrics },
        handlers,
      });
      await consumer.ready();
      if (options.backpressure) startBackpressure(consumer, options.backpressure);
      return consumer;
    },
    every(what, everyMs, task) {
      timers.push(
        setInterval(() => {
          task().catch((err: unknown) => {
            if (err instanceof LockBusyError)
              logger.debug({ task: what }, 'another process runs this task now');
            else logger.warn({ err, task: what }, `${what} failed; will retry`);
          });
        }, everyMs),
      );
    },
    onStop(step) {
      stopSteps.push(step);
    },
    stop: (signal) => {
      stopping ??= (async () => {
        logger.info({ signal }, 'shutting down');
        for (const timer of timers) clearInterval(timer);
        for (const step of stopSteps) await step();
        await consumer?.close();
        await closeAll(cleanups, logger);
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}

/** Runs the cleanups in reverse order of opening; one that fails is logged and the rest still run. */
async function closeAll(cleanups: (() => Promise<unknown> | void)[], logger: Logger): Promise<void> {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (err) {
      logger.warn({ err }, 'a resource did not close cleanly');
    }
  }
}
