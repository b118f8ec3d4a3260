import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ConfigError, awsEndpoints, parseConfig, runMain } from './index.js';

describe('parseConfig', () => {
  it('lists every problem with the variable to set', () => {
    const schema = z.object({
      DATABASE_URL: z.string({ error: 'is required' }),
      PORT: z.coerce.number().int().max(65535),
    });
    try {
      parseConfig(schema, { PORT: '70000' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([
        'DATABASE_URL is required',
        expect.stringMatching(/^PORT /),
      ]);
    }
  });
});

describe('awsEndpoints', () => {
  it('prefers a service endpoint over the common one', () => {
    expect(awsEndpoints({ AWS_ENDPOINT_URL: 'http://sim:4510', AWS_ENDPOINT_URL_STS: 'http://sts' })).toEqual(
      { sts: 'http://sts', iam: 'http://sim:4510', eks: 'http://sim:4510' },
    );
    expect(awsEndpoints({})).toEqual({});
  });
});

describe('runMain', () => {
  function fakeProcess() {
    const listeners = new Map<string, () => void>();
    const out: { code?: number; stderr: string } = { stderr: '' };
    return {
      out,
      listeners,
      proc: {
        once: (event: 'SIGTERM' | 'SIGINT', listener: () => void) => listeners.set(event, listener),
        exit: ((code: number) => {
          out.code = code;
        }) as (code: number) => never,
        stderr: { write: (t: string) => (out.stderr += t) },
      },
    };
  }

  it('exits 2 with the problems on bad configuration', async () => {
    const f = fakeProcess();
    runMain('svc', () => Promise.reject(new ConfigError(['PORT must be a number'])), f.proc);
    await new Promise((r) => setTimeout(r, 0));
    expect(f.out).toMatchObject({ code: 2, stderr: expect.stringContaining('PORT must be a number') });
  });

  it('stops once, whichever signals arrive', async () => {
    const f = fakeProcess();
    const stops: string[] = [];
    runMain('svc', async () => async (signal) => void stops.push(signal), f.proc);
    await new Promise((r) => setTimeout(r, 0));
    f.listeners.get('SIGTERM')?.();
    f.listeners.get('SIGINT')?.();
    expect(stops).toEqual(['SIGTERM']);
  });
});
