// `eks-sim serve`: starts the simulator on a world (the built-in demo, a world file, generated
// load, or a world file plus generated load), prints the ready line as ONE JSON line on stdout
// once every endpoint listens, and runs until SIGINT/SIGTERM.
import { action, UsageError } from '@eks-access/cli-kit';
import type { Command } from 'commander';
import { z } from 'zod';
import { faultRuleSchema, type FaultRule } from '../faults.js';
import { startSim, type RunningSim } from '../sim.js';
import { allowConnectorPods } from '../world/connector-pods.js';
import { allowConnectorProvisioning, createDemoDocument } from '../world/demo.js';
import { createDoctorDocument } from '../world/doctor.js';
import { fleetFaults, fleetSpecOf, parseFleetFlag } from '../world/fleet.js';
import { readWorldDocument, worldFactory, zodProblems } from '../world/load.js';
import { generateOptionsSchema, type GenerateOptions } from '../world/schema.js';
import { CliError, intFlag, type CliIo } from './args.js';

/** The AWS port `serve` uses unless told otherwise; Kubernetes endpoints take the ports after it. */
export const DEFAULT_PORT = 4510;

const STRING_KEYS = new Set(['clusterName', 'region', 'accountId', 'authenticationMode', 'version']);

/** Parses `--generate namespaces=2000,roleBindings=20000,…` into generator options. */
export function parseGenerateFlag(text: string): GenerateOptions {
  const raw: Record<string, string | number> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`--generate: "${part}" is not key=value`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    raw[key] = !STRING_KEYS.has(key) && /^\d+$/.test(value) ? Number(value) : value;
  }
  const parsed = generateOptionsSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    throw new UsageError(
      `--generate: ${zodProblems(parsed.error.issues)
        .map((p) => `${p.path}: ${p.message}`)
        .join('; ')}`,
    );
  }
  return parsed.data;
}

/** Parses one `--fault` value: a rule object or a list of them. */
export function parseFaultFlag(text: string, index: number): FaultRule[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`--fault #${index + 1} is not JSON: ${text}`);
  }
  const parsed = z
    .array(faultRuleSchema)
    .safeParse(Array.isArray(value) ? value : [value], { reportInput: true });
  if (!parsed.success) {
    throw new UsageError(
      `--fault #${index + 1}: ${zodProblems(parsed.error.issues, 'rules')
        .map((p) => `${p.path}: ${p.message}`)
        .join('; ')}`,
    );
  }
  return parsed.data;
}

function worldDocument(
  world: string | undefined,
  generate: GenerateOptions | undefined,
  seed: number | undefined,
): { doc: unknown; source: string } {
  let doc: unknown;
  let source: string;
  if (world === undefined && generate) {
    doc = {};
    source = '--generate';
  } else if (world === undefined || world === 'demo') {
    doc = createDemoDocument();
    source = 'demo world';
  } else if (world === 'doctor') {
    doc = createDoctorDocument();
    source = 'doctor world';
  } else if (world.startsWith('fleet:')) {
    try {
      doc = { fleet: parseFleetFlag(world.slice('fleet:'.length)) };
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    source = '--world fleet';
  } else {
    doc = readWorldDocument(world);
    source = world;
  }
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
    const base = doc as { generate?: GenerateOptions; fleet?: Record<string, unknown> };
    if (base.fleet && seed !== undefined) base.fleet = { seed, ...base.fleet };
    const merged = generate || base.generate ? { ...base.generate, ...generate } : undefined;
    if (merged && seed !== undefined) merged.seed ??= seed;
    if (merged) doc = { ...base, generate: merged };
  }
  return { doc, source };
}

interface ServeFlags {
  world?: string;
  generate?: string;
  seed?: string;
  port?: string;
  host?: string;
  bind?: string;
  fault: string[];
  connectorCanProvision?: boolean;
  connectorPods?: boolean;
}

/** Adds `eks-sim serve` to the program. */
export function serveCommand(program: Command, io: CliIo): void {
  program
    .command('serve')
    .summary('start the simulator (AWS STS/IAM/EKS + a Kubernetes API per cluster)')
    .description(
      'Starts the simulated AWS endpoint (STS, IAM, EKS, admin API under /_sim/) and one HTTPS ' +
        'Kubernetes endpoint per cluster, prints the ready line (one JSON line) on stdout, and runs until ' +
        'SIGINT or SIGTERM.',
    )
    .option(
      '--world <demo|doctor|fleet:k=v,...|file>',
      'the built-in demo world (default), the demo plus misconfigured clusters for eks-access doctor ' +
        '(doctor), a generated fleet (fleet:clusters=1000,accounts=100,regions=4, plus optional seed ' +
        'latencyMs eksPerAccount iamPerAccount stsPerAccount kubePerCluster), or a YAML/JSON world file',
    )
    .option('--connector-can-provision', 'give the demo connector write access (for provisioning demos)')
    .option(
      '--connector-pods',
      'let the demo connector run as pods of prod-eu (namespace eks-access, service account ' +
        'eks-access-connector) with IRSA or EKS Pod Identity: OIDC provider, role EksAccessConnectorPod, ' +
        'pod identity association',
    )
    .option(
      '--generate <k=v,...>',
      'add a generated cluster, e.g. namespaces=2000,roleBindings=20000,accessEntries=2000,iamRoles=5000 ' +
        '(alone: a world with only that cluster). Keys: seed clusterName region accountId ' +
        'authenticationMode version namespaces serviceAccounts clusterRoles roles roleBindings ' +
        'clusterRoleBindings accessEntries iamRoles iamUsers',
    )
    .option('--seed <n>', 'seed for generation and fault randomness (default 1)')
    .option(
      '--port <n>',
      `AWS endpoint port (default ${DEFAULT_PORT}; 0 = free ports everywhere); Kubernetes endpoints use the following ports`,
    )
    .option('--host <name>', 'host name advertised in endpoints and certificates (default 127.0.0.1)')
    .option('--bind <addr>', 'address to listen on (default 127.0.0.1; 0.0.0.0 in a container)')
    .option(
      '--fault <json>',
      `a fault rule or a JSON list of rules; repeatable, e.g. '{"target":"eks:*","throttleRate":0.2}'`,
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .action(action<ServeFlags>((flags) => serve(flags, io)));
}

/** Runs `eks-sim serve`; resolves with the exit code once the simulator has stopped. */
export async function serve(flags: ServeFlags, io: CliIo): Promise<number> {
  const seed = intFlag(flags.seed, '--seed', 0, 2 ** 32 - 1);
  const port = intFlag(flags.port, '--port', 0, 65535) ?? DEFAULT_PORT;
  const generate = flags.generate === undefined ? undefined : parseGenerateFlag(flags.generate);
  const { doc, source } = worldDocument(flags.world, generate, seed);
  const built = worldFactory(doc, source);
  // A fleet's limits and latency are fault rules; --fault rules come after them.
  const fleet = fleetSpecOf(doc);
  const faults = [
    ...(fleet ? fleetFaults(fleet) : []),
    ...flags.fault.flatMap((text, i) => parseFaultFlag(text, i)),
  ];
  // The demo maps its connector read-only; provisioning demos (docker compose) need it able to write.
  const world = () => {
    const w = built();
    if (flags.connectorCanProvision) allowConnectorProvisioning(w);
    if (flags.connectorPods) allowConnectorPods(w);
    return w;
  };

  let sim: RunningSim;
  try {
    sim = await startSim({
      world,
      port,
      faults,
      ...(seed === undefined ? {} : { seed }),
      ...(flags.host === undefined ? {} : { host: flags.host }),
      ...(flags.bind === undefined ? {} : { bindHost: flags.bind }),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new CliError(`${(err as Error).message}: pick another --port, or --port 0 for free ports`);
    if (code === 'EADDRNOTAVAIL')
      throw new CliError(`cannot listen on ${flags.bind ?? '127.0.0.1'}: no such local address (--bind)`);
    throw new CliError(`the simulator did not start: ${err instanceof Error ? err.message : String(err)}`);
  }
  io.stdout(`${JSON.stringify(sim.ready())}\n`);
  io.stderr(
    `eks-sim: ${sim.clusters().length} clusters ready; AWS endpoint and admin API at ${sim.awsEndpoint}\n`,
  );
  const signal = await io.untilSignal();
  await sim.close();
  io.stderr(`eks-sim: stopped (${signal})\n`);
  return 0;
}
