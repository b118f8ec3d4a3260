// `eks-access-api migrate [--wait-ms N]`: applies the committed migrations, first waiting for a
// Postgres that is still starting (a container beside it) when asked to.
import { action, UsageError } from '@eks-access/cli-kit';
import { migrate, type Database } from '@eks-access/db';
import type { Command } from 'commander';
import { withDatabase, type CliContext } from './context.js';

// What Postgres says while it cannot take connections yet: refused, unreachable or unknown host
// (a container still starting), or the server starting up or shutting down (57P03, 57P01).
const NOT_YET = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  '57P03',
  '57P01',
  '57P02',
]);

function notYetReachable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && NOT_YET.has(code)) return true;
  // node-postgres reports a server that closed the socket during start-up without a code.
  return err instanceof Error && /Connection terminated|timeout expired/i.test(err.message);
}

/**
 * Waits until Postgres answers, for at most `waitMs`. Only "not reachable yet" is waited out: a
 * wrong password or database name fails at once, as it would never heal by itself.
 */
async function waitForPostgres(ctx: CliContext, database: Database, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  let lastReported = 0;
  for (;;) {
    try {
      await database.pool.query('select 1');
      return;
    } catch (err) {
      if (!notYetReachable(err) || Date.now() >= deadline) throw err;
      if (Date.now() - lastReported >= 5000) {
        lastReported = Date.now();
        ctx.stderr(
          `eks-access-api: waiting for Postgres (${err instanceof Error ? err.message : String(err)})\n`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/** Adds `migrate` to the program. */
export function migrateCommand(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .summary('apply database migrations')
    .description(
      'Applies the committed database migrations. With --wait-ms, waits up to N ms for Postgres to accept ' +
        'connections first (a container starting beside it), retrying every second.',
    )
    .option('--wait-ms <n>', 'wait up to N milliseconds for Postgres (default 0: fail at once)')
    .action(
      action<{ waitMs?: string }>(async ({ waitMs: raw }) => {
        const waitMs = raw === undefined ? 0 : Number(raw);
        if (!/^\d+$/.test(raw ?? '0') || !Number.isSafeInteger(waitMs))
          throw new UsageError(`--wait-ms takes a whole number of milliseconds, not "${raw}"`);
        await withDatabase(ctx, async (database) => {
          if (waitMs > 0) await waitForPostgres(ctx, database, waitMs);
          await migrate(database);
        });
        ctx.stdout('migrations applied\n');
        return 0;
      }),
    );
}
