// The slice of pino this package uses. Declared structurally so callers pass their pino logger
// (or a test double) and the package needs no runtime logging dependency.

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}
