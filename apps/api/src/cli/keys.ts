// The API-key commands (create-key, list-keys, revoke-key, rotate-key), as /v1/api-keys manages
// keys: a new key is printed this once, listings never show one, every change is audited as "cli".
import { action, UsageError } from '@eks-access/cli-kit';
import { createApiKey, listApiKeys, revokeApiKey, rotateApiKey, type ApiKey } from '@eks-access/db';
import type { Command } from 'commander';
import { z } from 'zod';
import { withDatabase, type CliContext } from './context.js';

const scopesSchema = z.array(z.enum(['read', 'sync', 'provision', 'admin']));

function parseExpiry(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(at.getTime()) || at.getTime() <= Date.now()) {
    throw new UsageError(
      `--expires-at takes a future ISO 8601 time such as 2027-01-31T00:00:00Z, not "${value}"`,
    );
  }
  return at;
}

function keyLine(key: ApiKey, plaintext?: string): string {
  const { id, name, prefix, scopes, createdAt, lastUsedAt, expiresAt, revokedAt } = key;
  return `${JSON.stringify({ id, name, prefix, scopes, createdAt, lastUsedAt, expiresAt, revokedAt, ...(plaintext ? { key: plaintext } : {}) })}\n`;
}

const audit = { audit: { actor: 'cli' } } as const;

/** Adds create-key, list-keys, revoke-key and rotate-key to the program. */
export function keyCommands(program: Command, ctx: CliContext): void {
  program
    .command('create-key')
    .summary('create an API key (printed this once)')
    .description('Creates an API key with the given scopes and prints it, this once, with its id.')
    .option('--name <name>', 'what the key is for (required)')
    .option('--scopes <s,...>', 'comma-separated: read, sync, provision, admin (required)')
    .option('--expires-at <iso>', 'when the key stops working, e.g. 2027-01-31T00:00:00Z (default: never)')
    .action(
      action<{ name?: string; scopes?: string; expiresAt?: string }>(async (flags) => {
        if (!flags.name || !flags.scopes)
          throw new UsageError(
            `create-key needs ${flags.name ? '--scopes' : '--name'} (e.g. --name ci --scopes read,sync)`,
          );
        const scopes = scopesSchema.safeParse(flags.scopes.split(',').map((s) => s.trim()));
        if (!scopes.success)
          throw new UsageError('--scopes is a comma-separated list of read, sync, provision, admin');
        const expiresAt = parseExpiry(flags.expiresAt);
        const created = await withDatabase(ctx, (database) =>
          createApiKey(database, flags.name!, scopes.data, { ...audit, ...(expiresAt ? { expiresAt } : {}) }),
        );
        ctx.stdout(keyLine(created.apiKey, created.key));
        return 0;
      }),
    );

  program
    .command('list-keys')
    .summary('list API keys (never the keys themselves)')
    .description('Lists keys as JSON lines: id, name, prefix, scopes, last use, expiry.')
    .option('--all', 'include revoked and expired keys')
    .action(
      action<{ all?: boolean }>(async (flags) => {
        const keys = await withDatabase(ctx, (database) =>
          listApiKeys(database, { includeRevoked: flags.all ?? false }),
        );
        for (const key of keys) ctx.stdout(keyLine(key));
        return 0;
      }),
    );

  program
    .command('revoke-key')
    .summary('revoke an API key')
    .description('Revokes a key; every API process refuses it from the next request.')
    .option('--id <id>', 'the key id (see list-keys; required)')
    .action(
      action<{ id?: string }>(async (flags) => {
        if (!flags.id) throw new UsageError('revoke-key needs --id (see list-keys)');
        const revoked = await withDatabase(ctx, (database) => revokeApiKey(database, flags.id!, audit));
        ctx.stdout(keyLine(revoked));
        return 0;
      }),
    );

  program
    .command('rotate-key')
    .summary('replace an API key with a new one (printed this once)')
    .description(
      'Replaces a key with a new one of the same name and scopes, printed this once; the old one stops working at once.',
    )
    .option('--id <id>', 'the key id (see list-keys; required)')
    .option('--expires-at <iso>', 'when the new key stops working (default: never)')
    .action(
      action<{ id?: string; expiresAt?: string }>(async (flags) => {
        if (!flags.id) throw new UsageError('rotate-key needs --id (see list-keys)');
        const expiresAt = parseExpiry(flags.expiresAt);
        const rotated = await withDatabase(ctx, (database) =>
          rotateApiKey(database, flags.id!, { ...audit, ...(expiresAt ? { expiresAt } : {}) }),
        );
        ctx.stdout(keyLine(rotated.apiKey, rotated.key));
        return 0;
      }),
    );
}
