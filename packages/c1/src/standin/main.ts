// Runs the stand-in C1 as a process (docker compose). Options come from the command line:
//   --host 0.0.0.0 --public-host c1-standin --port 50051 --token-port 8089
//   --client '<client id>=<client secret>'   (repeatable; local test credentials only)
//   --generate-client                        (registers a fresh pair and prints it)
//   --sync-every-ms 60000                    (queues a full-sync task on that period, with
//                                            skip_expand_grants as C1 sends it in service mode)
//   --next-poll-ms 1000 --next-heartbeat-ms 5000 --tls-key key.pem --tls-cert cert.pem
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startStandInC1 } from './stand-in.js';

function numberOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`--${name} must be a non-negative integer`);
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string' },
      'public-host': { type: 'string' },
      port: { type: 'string' },
      'token-port': { type: 'string' },
      audience: { type: 'string' },
      client: { type: 'string', multiple: true },
      'generate-client': { type: 'boolean' },
      'sync-every-ms': { type: 'string' },
      'next-poll-ms': { type: 'string' },
      'next-heartbeat-ms': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-cert': { type: 'string' },
    },
  });
  const tlsKey = values['tls-key'];
  const tlsCert = values['tls-cert'];
  if ((tlsKey === undefined) !== (tlsCert === undefined))
    throw new Error('--tls-key and --tls-cert go together');

  const standIn = await startStandInC1({
    host: values.host,
    publicHost: values['public-host'],
    port: numberOption(values.port, 'port'),
    tokenPort: numberOption(values['token-port'], 'token-port'),
    audience: values.audience,
    nextPollMs: numberOption(values['next-poll-ms'], 'next-poll-ms'),
    nextHeartbeatMs: numberOption(values['next-heartbeat-ms'], 'next-heartbeat-ms'),
    tls: tlsKey && tlsCert ? { key: readFileSync(tlsKey), cert: readFileSync(tlsCert) } : undefined,
  });

  for (const pair of values.client ?? []) {
    const split = pair.indexOf('=');
    if (split <= 0) throw new Error('--client must be <client id>=<client secret>');
    standIn.registerClient({ clientId: pair.slice(0, split), clientSecret: pair.slice(split + 1) });
  }
  const generated = values['generate-client'] ? standIn.registerClient() : undefined;

  const syncEveryMs = numberOption(values['sync-every-ms'], 'sync-every-ms');
  const timer = syncEveryMs
    ? setInterval(() => standIn.enqueueTask({ syncFull: { skipExpandGrants: true } }), syncEveryMs)
    : undefined;

  console.log(
    JSON.stringify({
      msg: 'stand-in c1 listening',
      tokenUrl: standIn.tokenUrl,
      grpcTarget: standIn.grpcTarget,
      adminUrl: standIn.adminUrl,
      audience: standIn.audience,
      clients: (values.client?.length ?? 0) + (generated ? 1 : 0),
      ...(generated ? { generatedClient: generated } : {}),
    }),
  );

  const stop = () => {
    clearInterval(timer);
    void standIn.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ msg: 'stand-in c1 failed to start', error: (err as Error).message }));
  process.exit(1);
});
