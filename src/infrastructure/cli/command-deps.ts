import type { Container } from 'inversify';
import type { Config } from '../config/config.js';

/** What a command needs from the program around it; loaded only when the command runs. */
export interface CommandDeps {
  readonly loadConfig: () => Config;
  /** Connects to the database (applying the schema) and builds the container around `work`. */
  readonly withContainer: <T>(config: Config, work: (c: Container) => Promise<T>) => Promise<T>;
}
