import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { action, addBatonOption, batonValue, createProgram, runProgram, UsageError } from './index.js';

const field = {
  flag: 'cluster',
  short: 'c',
  aliases: ['eks-cluster-name'],
  env: 'BATON_EKS_CLUSTER_NAME',
  envAliases: ['BATON_CLUSTER'],
  description: 'EKS cluster name',
};

function program() {
  const out: string[] = [];
  const err: string[] = [];
  const streams = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) };
  const root = createProgram('tool', '1.2.3', 'a tool', streams);
  const seen: string[] = [];
  const sync = root.command('sync').description('sync one cluster');
  addBatonOption(sync, field);
  sync.action(
    action<Record<string, unknown>>((_, command) => {
      const value = batonValue(command, field, (name) => (name === 'BATON_CLUSTER' ? 'from-env' : undefined));
      if (!value) throw new UsageError('the cluster name is required (BATON_EKS_CLUSTER_NAME or --cluster)');
      seen.push(`${value.value} from ${value.from}`);
      if (value.value === 'boom') throw new Error('it broke');
      return 3;
    }),
  );
  const run = (...argv: string[]) => runProgram(root, argv, streams);
  return { run, out, err, seen };
}

describe('the command-line conventions', () => {
  it('answers --help and --version on stdout with exit 0, for the program and each command', async () => {
    for (const argv of [['--help'], ['--version'], ['sync', '--help'], ['sync', '--version']]) {
      const p = program();
      expect(await p.run(...argv), argv.join(' ')).toBe(0);
      expect(p.out.join(''), argv.join(' ')).toMatch(argv.includes('--help') ? /Usage: tool/ : /^1\.2\.3/);
      expect(p.err).toEqual([]);
    }
  });

  it('words a wrong command line as one line pointing to the right --help, exit 2', async () => {
    const unknownOption = program();
    expect(await unknownOption.run('sync', '--clustr', 'x')).toBe(2);
    expect(unknownOption.err).toEqual([
      `tool: unknown option '--clustr' (Did you mean --cluster?); see "tool sync --help"\n`,
    ]);
    const unknownCommand = program();
    expect(await unknownCommand.run('bogus')).toBe(2);
    expect(unknownCommand.err.join('')).toMatch(/^tool: unknown command 'bogus'; see "tool --help"\n$/);
    const none = program();
    expect(await none.run()).toBe(2);
    expect(none.err).toEqual(['tool: a command is required; see "tool --help"\n']);
  });

  it("returns the action's exit code; a setting error exits 2 and any other failure 1, each one line", async () => {
    const ok = program();
    expect(await ok.run('sync', '--cluster', ' prod ')).toBe(3);
    expect(ok.seen).toEqual(['prod from --cluster']);
    // No flag: the variables are read, the first one set wins.
    const missing = program();
    expect(await missing.run('sync')).toBe(3);
    expect(missing.seen).toEqual(['from-env from BATON_CLUSTER']);
    const failing = program();
    expect(await failing.run('sync', '--', '--eks-cluster-name', 'boom')).toBe(1);
    expect(failing.seen).toEqual(['boom from --eks-cluster-name']);
    expect(failing.err).toEqual(['tool: it broke\n']);
  });

  it('names the missing setting when neither flag nor variable is given', async () => {
    const root = createProgram('tool', '1.0.0', 'a tool', {
      stdout: () => undefined,
      stderr: () => undefined,
    });
    const err: string[] = [];
    const sync = root.command('sync');
    addBatonOption(sync, field);
    sync.action(
      action((_, command: Command) => {
        if (!batonValue(command, field, () => undefined))
          throw new UsageError('set BATON_EKS_CLUSTER_NAME or --cluster');
        return 0;
      }),
    );
    expect(
      await runProgram(root, ['sync'], { stdout: () => undefined, stderr: (t) => void err.push(t) }),
    ).toBe(2);
    expect(err).toEqual(['tool: set BATON_EKS_CLUSTER_NAME or --cluster\n']);
  });
});
