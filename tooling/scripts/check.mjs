#!/usr/bin/env node
// `pnpm check`: every stage runs even when an earlier one failed (turbo --continue), so one failing
// package never hides the results of the others, and the run always ends with the one-line total
// "N passed, N failed, N skipped". Exits non-zero when any stage or test failed.
// Stages: type-check + lint, the import-cycle/boundary check, the OpenAPI document's lint (Redocly,
// over the document the API serves, built offline), then every test suite one package at a time (the
// suites share one Postgres and one Redis). `--tests` runs only the test stage.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { summarize } from './test-summary.mjs';

const root = resolve(import.meta.dirname, '../..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
// The pnpm that started `pnpm check` (a script or a native binary), or the one on PATH.
const execPath = process.env.npm_execpath;
const pnpm =
  execPath && existsSync(execPath)
    ? /\.[cm]?js$/.test(execPath)
      ? { cmd: process.execPath, args: [execPath] }
      : { cmd: execPath, args: [] }
    : { cmd: 'pnpm', args: [] };

const stages = [
  {
    name: 'typecheck and lint',
    cmd: bin('turbo'),
    args: ['run', 'typecheck', 'lint', '--concurrency=2', '--continue'],
  },
  {
    name: 'formatting',
    cmd: bin('prettier'),
    args: ['--check', '--log-level=warn', '.'],
  },
  {
    name: 'import cycles and boundaries',
    cmd: process.execPath,
    args: [join(root, 'tooling/scripts/check-cycles.mjs')],
  },
  {
    name: 'OpenAPI lint',
    cmd: pnpm.cmd,
    args: [...pnpm.args, '--filter', '@eks-access/api', 'run', 'lint:openapi'],
  },
  {
    name: 'tests',
    cmd: bin('turbo'),
    args: ['run', 'test', '--concurrency=1', '--continue'],
    before: removeReports,
  },
];

let current;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    current?.kill(signal);
    process.exit(130);
  });
}

function run(stage) {
  return new Promise((done) => {
    current = spawn(stage.cmd, stage.args, { cwd: root, stdio: 'inherit' });
    current.on('error', (err) => {
      console.error(`${stage.name}: cannot start ${stage.cmd}: ${err.message}`);
      done(1);
    });
    current.on('exit', (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

/** Stale reports from an earlier run must not count as this run's results. */
function removeReports() {
  for (const group of ['apps', 'packages', 'test']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    const dirs = existsSync(join(base, 'package.json'))
      ? [base]
      : readdirSync(base).map((d) => join(base, d));
    for (const dir of dirs) rmSync(join(dir, '.vitest-results.json'), { force: true });
  }
}

const failedStages = [];
const selected = process.argv.includes('--tests') ? stages.filter((s) => s.name === 'tests') : stages;
for (const stage of selected) {
  stage.before?.();
  const code = await run(stage);
  if (code !== 0) failedStages.push(stage.name);
}
const totals = summarize(root);
if (totals.missing.length > 0) console.log(`no test report from: ${totals.missing.join(', ')}`);
if (failedStages.length > 0) console.log(`failed stages: ${failedStages.join(', ')}`);
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
const ok =
  failedStages.length === 0 && totals.failed === 0 && totals.passed > 0 && totals.missing.length === 0;
process.exit(ok ? 0 : 1);
