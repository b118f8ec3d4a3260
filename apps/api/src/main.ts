// The API process: load config → open connections → build the app → listen → shut down cleanly.
import { pino } from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createAppDeps } from './deps.js';

const REDACT = ['req.headers.authorization', '*.secretAccessKey', '*.c1ClientSecret', '*.externalId', '*.bindingExternalId'];

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`eks-access-api: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({ level: config.LOG_LEVEL, redact: REDACT, base: { service: 'api' } });
  const { deps, close } = await createAppDeps(config, logger);
  const app = await buildApp(deps);
  await app.listen({ host: config.HOST, port: config.PORT });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    force.unref();
    await app.close();
    await close();
    logger.info('stopped');
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`eks-access-api: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
