// Test helpers for service mode: a logger that keeps its lines for assertions.
import type { ServiceLogger } from './loop.js';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields: Record<string, unknown>;
}

/** A ServiceLogger that records every line (children included) in `lines`. */
export function createMemoryLogger(
  lines: LogLine[] = [],
  bindings: Record<string, unknown> = {},
): ServiceLogger & { lines: LogLine[] } {
  const log =
    (level: LogLine['level']) =>
    (obj: object, msg = '') =>
      lines.push({ level, msg, fields: { ...bindings, ...(obj as Record<string, unknown>) } });
  return {
    lines,
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (more) => createMemoryLogger(lines, { ...bindings, ...more }),
  };
}
