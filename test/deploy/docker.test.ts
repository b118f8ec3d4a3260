// The Dockerfile's dependency layer copies every workspace manifest before the sources, so a source
// edit keeps the installed dependencies; a workspace package missing from that list would break
// `pnpm install --frozen-lockfile` in the image. Checked here because CI has no Docker engine.
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const dockerfile = readFileSync(resolve(root, 'Dockerfile'), 'utf8');
const ignore = readFileSync(resolve(root, '.dockerignore'), 'utf8').split('\n');

function workspaceManifests(): string[] {
  const out = ['test/package.json'];
  for (const group of ['apps', 'packages', 'tooling']) {
    for (const dir of readdirSync(resolve(root, group))) {
      if (existsSync(resolve(root, group, dir, 'package.json'))) out.push(join(group, dir, 'package.json'));
    }
  }
  return out.sort();
}

describe('Dockerfile', () => {
  it('copies every workspace manifest into the dependency layer before the sources', () => {
    const copied = [...dockerfile.matchAll(/^COPY (\S+\/package\.json) /gm)].map((m) => m[1]).sort();
    expect(copied).toEqual(workspaceManifests());
    expect(dockerfile.indexOf('RUN pnpm install --frozen-lockfile')).toBeLessThan(
      dockerfile.indexOf('COPY . .'),
    );
  });

  it('pins its base image to a full version and runs every target as the node user from a production tree', () => {
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!).filter((b) => b.includes(':'));
    for (const base of bases) expect(base).toMatch(/^node:\d+\.\d+\.\d+-/);
    expect(dockerfile).toMatch(/deploy --prod/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('keeps secrets, dependencies and build output out of the build context', () => {
    for (const pattern of ['.env*', '**/.env*', 'node_modules', '**/node_modules', 'dist', '**/dist']) {
      expect(ignore, pattern).toContain(pattern);
    }
  });
});
