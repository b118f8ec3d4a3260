// The backpressure decision on its own (samples are plain numbers here; the worker process test
// drives it with a real Postgres pool): pause over either limit, resume only at half of both.
import { describe, expect, it } from 'vitest';
import { createBackpressure, pingLatencyMs, type PressureSample } from './backpressure.js';

const limits = { maxPgWaiting: 10, maxRedisLatencyMs: 200, checkEveryMs: 1_000 };

function driven(samples: PressureSample[]) {
  const events: string[] = [];
  const backpressure = createBackpressure({
    limits,
    sample: async () => samples.shift()!,
    pause: async (over) => void events.push(`pause:${over.join('+')}`),
    resume: async () => void events.push('resume'),
  });
  return { backpressure, events };
}

describe('backpressure', () => {
  it('pauses when either dependency is over its limit and resumes only once both are at half or less', async () => {
    const { backpressure, events } = driven([
      { pgWaiting: 10, redisLatencyMs: 200 }, // at the limits: fine
      { pgWaiting: 11, redisLatencyMs: 5 }, // Postgres over
      { pgWaiting: 6, redisLatencyMs: 5 }, // better, but not half: stays paused
      { pgWaiting: 5, redisLatencyMs: 150 }, // Postgres at half, Redis not: stays paused
      { pgWaiting: 5, redisLatencyMs: 100 }, // both at half: resumes
      { pgWaiting: 0, redisLatencyMs: 201 }, // Redis over
      { pgWaiting: 30, redisLatencyMs: 900 }, // worse: no second pause
    ]);
    const states = [];
    for (let i = 0; i < 7; i++) states.push(await backpressure.check());
    expect(states).toEqual([false, true, true, true, false, true, true]);
    expect(events).toEqual(['pause:postgres', 'resume', 'pause:redis']);
  });

  it('counts a PING that fails or does not answer in time as the timeout', async () => {
    expect(await pingLatencyMs(() => Promise.reject(new Error('down')), 300)).toBe(300);
    expect(await pingLatencyMs(() => new Promise(() => undefined), 30)).toBe(30);
    expect(await pingLatencyMs(async () => 'PONG', 10_000)).toBeLessThan(10_000);
  });
});
