#!/usr/bin/env node
// Adds up the Vitest JSON reports every package wrote (.vitest-results.json). Used by check.mjs for
// the closing line "N passed, N failed, N skipped"; run alone it prints that line for the reports
// on disk and exits non-zero when any test failed, no test ran, or a package left no report.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Totals over every workspace package with a test script; `missing` names packages with no report. */
export function summarize(root) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const missing = [];
  for (const group of ['apps', 'packages', 'test']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    const dirs = existsSync(join(base, 'package.json'))
      ? [base]
      : readdirSync(base).map((d) => join(base, d));
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
  return { passed, failed, skipped, missing };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const totals = summarize(resolve(import.meta.dirname, '../..'));
  if (totals.missing.length > 0) console.log(`no test report from: ${totals.missing.join(', ')}`);
  console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
  process.exit(totals.failed > 0 || totals.passed === 0 || totals.missing.length > 0 ? 1 : 0);
}
