/**
 * The little the runner says about itself. Shaped like pino's `(object, message)` so the
 * composition root can pass a pino child logger as is; the default says nothing.
 */
export interface ProjectionLogger {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

export const silentLogger: ProjectionLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export const describeError = (error: unknown): string =>
  error instanceof Error ? error.message || error.name : typeof error === 'string' ? error : JSON.stringify(error) ?? String(error);
