// Change notifications (migration 0009): triggers announce, on commit, every change that can alter
// what is served for a cluster (`cluster:<id>`) or which API keys are valid (`api_keys`) on the
// channel CHANGE_CHANNEL. `listenForChanges` holds one dedicated connection LISTENing to it and
// reconnects with backoff. A cache built on it must trust it only while `connected`: whatever was
// announced while the connection was down is lost, so `onState(true)` after a reconnect means
// "forget everything cached", exactly like the first connect.
import pg from 'pg';

export const CHANGE_CHANNEL = 'eks_access_changes';

export type Change =
  | { kind: 'cluster'; clusterId: string }
  | { kind: 'api_keys' }
  /** Change events up to `lastId` were committed (queries/events.ts). */
  | { kind: 'events'; lastId: number };

export interface ChangeListenerOptions {
  /** postgres://… (the same database the pool uses). */
  url: string;
  onChange(change: Change): void;
  /** true once LISTEN is in place (again); false as soon as the connection is lost. */
  onState(connected: boolean): void;
  onError?(err: Error): void;
  applicationName?: string;
  /** First reconnect delay; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

export interface ChangeListener {
  readonly connected: boolean;
  close(): Promise<void>;
}

/** Parses a notification payload; undefined for anything this version does not know. */
export function parseChange(payload: string | undefined): Change | undefined {
  if (payload === 'api_keys') return { kind: 'api_keys' };
  const events = payload ? /^events:(\d{1,18})$/.exec(payload) : null;
  if (events) return { kind: 'events', lastId: Number(events[1]) };
  const m = payload ? /^cluster:([0-9a-f-]{36})$/.exec(payload) : null;
  return m ? { kind: 'cluster', clusterId: m[1]! } : undefined;
}

/** Starts listening; resolves at once (the first connection is made in the background). */
export function listenForChanges(options: ChangeListenerOptions): ChangeListener {
  const base = options.retryMs ?? 250;
  const max = options.maxRetryMs ?? 10_000;
  let delay = base;
  let closed = false;
  let connected = false;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;

  const setState = (value: boolean) => {
    if (connected === value) return;
    connected = value;
    options.onState(value);
  };

  const schedule = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    timer.unref();
    delay = Math.min(max, delay * 2);
  };

  const lost = (c: pg.Client, err?: Error) => {
    if (client !== c) return;
    client = undefined;
    setState(false);
    if (err && !closed) options.onError?.(err);
    c.removeAllListeners();
    c.on('error', () => {});
    void c.end().catch(() => {});
    schedule();
  };

  const connect = async () => {
    if (closed) return;
    const c = new pg.Client({
      connectionString: options.url,
      ...(options.applicationName ? { application_name: options.applicationName } : {}),
      // A silent network drop must end the connection, or the cache would trust a dead listener.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    client = c;
    c.on('error', (err) => lost(c, err));
    c.on('end', () => lost(c));
    c.on('notification', (msg) => {
      if (msg.channel !== CHANGE_CHANNEL) return;
      const change = parseChange(msg.payload);
      if (change) options.onChange(change);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANGE_CHANNEL}`);
      if (client !== c || closed) return;
      delay = base;
      setState(true);
    } catch (err) {
      lost(c, err as Error);
    }
  };

  void connect();
  return {
    get connected() {
      return connected;
    },
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      setState(false);
      if (c) {
        c.removeAllListeners();
        c.on('error', () => {});
        await c.end().catch(() => {});
      }
    },
  };
}
