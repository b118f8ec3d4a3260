#!/usr/bin/env node
// Import-cycle and boundary check over every workspace package's src/.
// - no cycles between modules (relative imports) or between workspace packages;
// - a workspace package may import another only if it lists it in its dependencies;
// - no deep imports into another package's src/;
// - the boundaries DESIGN.md sets: @eks-access/model has no dependencies and its sources import
//   nothing but each other (no npm package, no node: module); packages never depend on apps; apps
//   never depend on each other; the API never depends on eks-core (cloud latency stays out of
//   request handling); eks-core, db, queue and c1 never depend on one another (what they share
//   lives in model).
// Dependency-free on purpose: it runs in CI before anything else is trusted.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname, resolve, relative } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const groups = ['apps', 'packages', 'test'];
const problems = [];

function listDirs() {
  const dirs = [];
  for (const g of groups) {
    const p = join(root, g);
    if (!existsSync(p)) continue;
    if (existsSync(join(p, 'package.json'))) dirs.push(p);
    else for (const d of readdirSync(p)) if (existsSync(join(p, d, 'package.json'))) dirs.push(join(p, d));
  }
  return dirs;
}

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const importRe =
  /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

const pkgs = listDirs().map((dir) => {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const deps = new Set(Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }));
  const runtimeDeps = Object.keys(manifest.dependencies ?? {});
  return { dir, name: manifest.name, deps, runtimeDeps, group: relative(root, dir).split('/')[0] };
});
const byName = new Map(pkgs.map((p) => [p.name, p]));

const MODEL = '@eks-access/model';
const API = '@eks-access/api';
const EKS_CORE = '@eks-access/eks-core';
// Each of these reaches one outside system; what they share is the model, never each other.
const EDGE_PACKAGES = new Set([
  '@eks-access/eks-core',
  '@eks-access/db',
  '@eks-access/queue',
  '@eks-access/c1',
]);

for (const pkg of pkgs) {
  const ours = [...pkg.deps].filter((d) => byName.has(d) && d !== pkg.name);
  if (pkg.name === MODEL && pkg.runtimeDeps.length > 0) {
    problems.push(`${MODEL} must have no dependencies, but lists ${pkg.runtimeDeps.join(', ')}`);
  }
  for (const dep of ours) {
    const target = byName.get(dep);
    if (pkg.group === 'packages' && target.group === 'apps')
      problems.push(`${pkg.name} depends on the app ${dep}; packages never import apps`);
    if (pkg.group === 'apps' && target.group === 'apps')
      problems.push(`${pkg.name} depends on the app ${dep}; apps never import each other`);
    if (pkg.name === API && dep === EKS_CORE)
      problems.push(`${API} depends on ${EKS_CORE}; the API never calls AWS or Kubernetes`);
    if (EDGE_PACKAGES.has(pkg.name) && EDGE_PACKAGES.has(dep))
      problems.push(`${pkg.name} depends on ${dep}; share through ${MODEL} instead`);
  }
}

const moduleGraph = new Map();
const pkgGraph = new Map(pkgs.map((p) => [p.name, new Set()]));

for (const pkg of pkgs) {
  for (const file of walk(pkg.dir)) {
    const src = readFileSync(file, 'utf8');
    const edges = [];
    const isTest = /\.test\.ts$/.test(file) || /\/test\//.test(file);
    for (const m of src.matchAll(importRe)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
        // type-only imports cannot create runtime cycles
        if (!/^\s*(import|export)\s+type\s/.test(m[0].trimStart())) edges.push(target);
        continue;
      }
      const pkgName = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (pkg.name === MODEL && !isTest && file.startsWith(join(pkg.dir, 'src')))
        problems.push(
          `${relative(root, file)} imports ${spec}; ${MODEL} imports nothing but its own modules`,
        );
      const target = byName.get(pkgName);
      if (!target || target === pkg) continue;
      if (!pkg.deps.has(pkgName))
        problems.push(
          `${relative(root, file)} imports ${pkgName}, which ${pkg.name} does not list in its dependencies`,
        );
      if (spec.includes('/src/')) problems.push(`${relative(root, file)} deep-imports ${spec}`);
      if (!isTest) pkgGraph.get(pkg.name).add(pkgName);
    }
    moduleGraph.set(file, edges);
  }
}

function findCycles(graph) {
  const cycles = [];
  const state = new Map();
  const stack = [];
  const visit = (n) => {
    state.set(n, 1);
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (!graph.has(m)) continue;
      if (state.get(m) === 1) cycles.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of graph.keys()) if (!state.has(n)) visit(n);
  return cycles;
}

for (const c of findCycles(moduleGraph))
  problems.push(`import cycle: ${c.map((f) => relative(root, f)).join(' -> ')}`);
for (const c of findCycles(pkgGraph)) problems.push(`package cycle: ${c.join(' -> ')}`);

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(
  `import check: ${moduleGraph.size} modules in ${pkgs.length} packages, no cycles, boundaries respected`,
);
