// The API process: load config → open connections → build the app → listen → shut down cleanly.
import { runMain } from '@eks-access/runtime';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { createAppDeps } from './deps.js';

const REDACT = [
  'req.headers.authorization',
  '*.secretAccessKey',
  '*.c1ClientSecret',
  '*.externalId',
  '*.bindingExternalId',
];

runMain(
  'eks-access-api',
  async () => {
    const config = loadConfig();
    const logger = pino({ level: config.LOG_LEVEL, redact: REDACT, base: { service: 'api' } });
    const { deps, close } = await createAppDeps(config, logger);
    const app = await buildApp(deps);
    await app.listen({ host: config.HOST, port: config.PORT });

    return async (signal: string) => {
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
  },
  process,
);
