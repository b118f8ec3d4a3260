// Runs one `upload.snapshot` job in its own process, so a test can kill the process mid-upload
// (SIGKILL: no cleanup code runs, exactly as a crashed uploader). Configured by the environment.
import { tmpdir } from 'node:os';
import { createDb } from '@eks-access/db';
import { pino } from 'pino';
import { uploadSnapshotJob } from '../jobs/upload-snapshot.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const database = createDb({ url: env('DATABASE_URL'), encryptionKey: env('ENCRYPTION_KEY') });
const logger = pino({ level: 'silent' });
const noLimit = { acquire: async () => undefined, onThrottle: () => undefined, onSuccess: () => undefined };
await uploadSnapshotJob(
  {
    database,
    limiter: noLimit,
    c1: { hostId: 'doomed-uploader', apiHost: env('C1_API_HOST'), tokenUrl: env('C1_TOKEN_URL'), tls: false },
    workerId: 'doomed-uploader',
    backoff: { baseMs: 50, maxMs: 200 },
    workDir: process.env.WORK_DIR ?? tmpdir(),
  },
  { uploadId: env('UPLOAD_ID') },
  {
    job: {
      id: 'child',
      name: 'upload.snapshot',
      queue: 'c1-upload',
      attempt: 1,
      maxAttempts: 1,
      enqueuedAt: Date.now(),
      deferrals: 0,
    },
    signal: new AbortController().signal,
    attempt: 1,
    logger,
    updateProgress: async () => undefined,
    defer: () => Promise.reject(new Error('the upload child never defers')),
  },
);
process.stdout.write('upload finished\n');
await database.close();
