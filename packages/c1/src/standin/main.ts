// c1-standin: runs the stand-in ConductorOne (token endpoint, BatonService over gRPC, admin API) as
// a process, for docker compose and local runs. Prints one JSON line once it listens, and runs until
// SIGINT or SIGTERM.
import { readFileSync } from 'node:fs';
import { action, createProgram, packageVersion, runProgram, UsageError } from '@eks-access/cli-kit';
import { startStandInC1 } from './stand-in.js';

interface StandInFlags {
  host?: string;
  publicHost?: string;
  port?: string;
  tokenPort?: string;
  audience?: string;
  client: string[];
  generateClient?: boolean;
  syncEveryMs?: string;
  nextPollMs?: string;
  nextHeartbeatMs?: string;
  tlsKey?: string;
  tlsCert?: string;
}

function numberOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed))
    throw new UsageError(`--${name} takes a whole number, not "${value}"`);
  return parsed;
}

async function start(flags: StandInFlags): Promise<number> {
  const { tlsKey, tlsCert } = flags;
  if ((tlsKey === undefined) !== (tlsCert === undefined))
    throw new UsageError(`--tls-key and --tls-cert go together: add ${tlsKey ? '--tls-cert' : '--tls-key'}`);
  const clients = flags.client.map((pair) => {
    const split = pair.indexOf('=');
    if (split <= 0) throw new UsageError('--client takes <client id>=<client secret>');
    return { clientId: pair.slice(0, split), clientSecret: pair.slice(split + 1) };
  });
  const syncEveryMs = numberOption(flags.syncEveryMs, 'sync-every-ms');
  const options = {
    host: flags.host,
    publicHost: flags.publicHost,
    port: numberOption(flags.port, 'port'),
    tokenPort: numberOption(flags.tokenPort, 'token-port'),
    audience: flags.audience,
    nextPollMs: numberOption(flags.nextPollMs, 'next-poll-ms'),
    nextHeartbeatMs: numberOption(flags.nextHeartbeatMs, 'next-heartbeat-ms'),
    tls: tlsKey && tlsCert ? { key: readFileSync(tlsKey), cert: readFileSync(tlsCert) } : undefined,
  };

  const standIn = await startStandInC1(options);
  for (const client of clients) standIn.registerClient(client);
  const generated = flags.generateClient ? standIn.registerClient() : undefined;
  const timer = syncEveryMs
    ? setInterval(() => standIn.enqueueTask({ syncFull: { skipExpandGrants: true } }), syncEveryMs)
    : undefined;

  // Signals are handled before the ready line: whoever reads it may stop the stand-in at once.
  const stop = () => {
    clearInterval(timer);
    void standIn.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(
    `${JSON.stringify({
      msg: 'stand-in c1 listening',
      tokenUrl: standIn.tokenUrl,
      grpcTarget: standIn.grpcTarget,
      adminUrl: standIn.adminUrl,
      audience: standIn.audience,
      clients: clients.length + (generated ? 1 : 0),
      ...(generated ? { generatedClient: generated } : {}),
    })}\n`,
  );

  return 0;
}

const streams = {
  stdout: (text: string) => void process.stdout.write(text),
  stderr: (text: string) => void process.stderr.write(text),
};
const collect = (value: string, previous: string[]) => [...previous, value];
const program = createProgram(
  'c1-standin',
  // src/standin/ and dist/standin/ sit at the same depth below the package.
  packageVersion(new URL('../../package.json', import.meta.url)),
  'A local stand-in for ConductorOne: the token endpoint, BatonService (gRPC) and an admin API to queue ' +
    'tasks and read results. For docker compose and tests; never for real credentials.',
  streams,
)
  .option('--host <addr>', 'address to listen on (default 127.0.0.1; 0.0.0.0 in a container)')
  .option('--public-host <name>', 'host name clients use in the token URL and gRPC target (default: --host)')
  .option('--port <n>', 'gRPC port (default 0: a free port)')
  .option('--token-port <n>', 'token endpoint and admin API port (default 0: a free port)')
  .option('--audience <host>', 'the tenant host in the client ids it issues and the JWT audience it expects')
  .option(
    '--client <id=secret>',
    'accept this client id and secret; repeatable (local test credentials only)',
    collect,
    [],
  )
  .option('--generate-client', 'register a fresh client and print it in the ready line')
  .option(
    '--sync-every-ms <n>',
    'queue a full-sync task on that period, with skip_expand_grants as C1 sends it in service mode',
  )
  .option('--next-poll-ms <n>', 'how long connectors wait between task polls')
  .option('--next-heartbeat-ms <n>', 'how often connectors send heartbeats')
  .option('--tls-key <file>', 'TLS key (PEM) for both endpoints; with --tls-cert (default: plaintext)')
  .option('--tls-cert <file>', 'TLS certificate (PEM) for both endpoints')
  .action(action<StandInFlags>(start));

const code = await runProgram(program, process.argv.slice(2), streams);
// A failed start may leave a listener open; nothing more will happen in this process.
if (code !== 0) process.exit(code);
