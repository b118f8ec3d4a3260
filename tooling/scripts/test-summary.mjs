#!/usr/bin/env node
// Adds up the Vitest JSON reports every package wrote (.vitest-results.json) and prints one
// closing line "N passed, N failed, N skipped", so CI logs carry a single total across packages.
// Exits non-zero when any test failed or when no test ran at all.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const group of ['apps', 'packages', 'test']) {
  const base = join(root, group);
  if (!existsSync(base)) continue;
  const dirs = existsSync(join(base, 'package.json')) ? [base] : readdirSync(base).map((d) => join(base, d));
  for (const dir of dirs) {
    if (!existsSync(join(dir, 'package.json'))) continue;
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    if (!manifest.scripts?.test) continue;
    const file = join(dir, '.vitest-results.json');
    if (!existsSync(file)) {
      missing.push(manifest.name);
      continue;
    }
    const report = JSON.parse(readFileSync(file, 'utf8'));
    passed += report.numPassedTests ?? 0;
    failed += report.numFailedTests ?? 0;
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  }
}
if (missing.length > 0) console.log(`no test report from: ${missing.join(', ')}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 || missing.length > 0 ? 1 : 0);
