import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { JOBS, JOB_NAMES, QUEUE_NAMES, isSafeJobId, jobIdFor, jobsOf, parsePayload } from './catalogue.js';

const samples = {
  'cluster.sync': { clusterId: randomUUID(), syncRunId: randomUUID(), trigger: 'api' },
  'cluster.scheduled-sync': { clusterId: randomUUID() },
  'cluster.doctor': { clusterId: randomUUID(), doctorRunId: randomUUID() },
  'access.grant': { requestId: randomUUID() },
  'access.revoke': { requestId: randomUUID() },
  'upload.snapshot': { uploadId: randomUUID() },
} as const;

describe('job catalogue', () => {
  it('names queues in kebab-case and jobs as <domain>.<verb>', () => {
    for (const q of QUEUE_NAMES) expect(q).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    for (const n of JOB_NAMES) expect(n).toMatch(/^[a-z0-9]+\.[a-z0-9-]+$/);
  });

  it('keeps failed jobs as a dead-letter store and retries with jittered exponential backoff', () => {
    for (const n of JOB_NAMES) {
      const job = JOBS[n];
      expect(job.attempts).toBeGreaterThanOrEqual(1);
      expect(job.backoff.type).toBe('exponential');
      expect(job.backoff.jitter).toBeGreaterThan(0);
      expect(job.removeOnFail.ageSeconds).toBeGreaterThanOrEqual(7 * 24 * 3600);
      expect(job.removeOnFail.count).toBeGreaterThanOrEqual(10_000);
    }
  });

  it('gives deterministic ids that BullMQ accepts', () => {
    for (const n of JOB_NAMES) {
      const parsed = parsePayload(n, samples[n]);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      const id = jobIdFor(n, parsed.value);
      expect(jobIdFor(n, parsed.value)).toBe(id);
      if (n === 'cluster.scheduled-sync') {
        expect(id).toBeUndefined();
        continue;
      }
      expect(isSafeJobId(id ?? '')).toBe(true);
    }
    expect(jobIdFor('cluster.sync', samples['cluster.sync'])).toBe(
      `sync-${samples['cluster.sync'].syncRunId}`,
    );
    expect(jobIdFor('access.grant', samples['access.grant'])).toBe(
      `grant-${samples['access.grant'].requestId}`,
    );
  });

  it('rejects ids with a colon or made only of digits', () => {
    expect(isSafeJobId('sync-1')).toBe(true);
    expect(isSafeJobId('123')).toBe(false);
    expect(isSafeJobId('a:b')).toBe(false);
    expect(isSafeJobId('')).toBe(false);
  });

  it('lists every problem of a bad payload with its path', () => {
    const parsed = parsePayload('cluster.sync', { clusterId: 'nope', trigger: 'cron' });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems.map((p) => p.path).sort()).toEqual(['clusterId', 'syncRunId', 'trigger']);
  });

  it('drops unknown fields so older workers accept payloads from newer producers', () => {
    const parsed = parsePayload('access.grant', {
      requestId: samples['access.grant'].requestId,
      addedLater: true,
    });
    expect(parsed).toEqual({ ok: true, value: { requestId: samples['access.grant'].requestId } });
  });

  it('groups jobs by queue', () => {
    expect(jobsOf('eks-sync').sort()).toEqual(['cluster.doctor', 'cluster.scheduled-sync', 'cluster.sync']);
    expect(jobsOf('eks-provision').sort()).toEqual(['access.grant', 'access.revoke']);
    expect(jobsOf('c1-upload')).toEqual(['upload.snapshot']);
  });
});
