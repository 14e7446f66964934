/**
 * The slice of a structured logger the realtime module uses. pino's Logger satisfies it,
 * so the composition root passes its logger as is; tests pass nothing.
 */
export interface RealtimeLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const ignore = (): void => undefined;

export const silentLogger: RealtimeLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

/** An error as log fields: the message and code, never the whole object graph. */
export function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return code === undefined ? { err: error.message } : { err: error.message, code };
  }
  return { err: String(error) };
}
