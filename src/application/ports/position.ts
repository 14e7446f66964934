import type { Brand } from '../../domain/brand.js';

/**
 * A place in the global log. Both adapters order events by a pair:
 * EventStoreDB by (commit, prepare) as it reports them; PostgreSQL by
 * (transaction id, global sequence), because sequence numbers are taken before commit
 * and only the pair is a safe reading order (docs/architecture.md, "Event store").
 * Round-trips through a string "<commit>.<prepare>", both decimal.
 */
export interface PositionParts {
  readonly commit: bigint;
  readonly prepare: bigint;
}
export type Position = Brand<PositionParts, 'Position'>;

const MAX_U64 = (1n << 64n) - 1n;
const POSITION_PATTERN = /^(\d{1,20})\.(\d{1,20})$/;

export const position = (commit: bigint, prepare: bigint): Position => {
  if (commit < 0n || prepare < 0n || commit > MAX_U64 || prepare > MAX_U64) {
    throw new RangeError(`position out of range: ${commit}.${prepare}`);
  }
  return { commit, prepare } as Position;
};

/** The position before every event. */
export const START: Position = position(0n, 0n);

export const formatPosition = (p: PositionParts): string => `${p.commit}.${p.prepare}`;

/** Undefined for anything that is not a position we could have issued. */
export function parsePosition(text: string): Position | undefined {
  const m = POSITION_PATTERN.exec(text);
  if (!m) return undefined;
  const commit = BigInt(m[1] as string);
  const prepare = BigInt(m[2] as string);
  if (commit > MAX_U64 || prepare > MAX_U64) return undefined;
  return position(commit, prepare);
}

export function comparePositions(a: PositionParts, b: PositionParts): -1 | 0 | 1 {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

export const isAfter = (a: PositionParts, b: PositionParts): boolean => comparePositions(a, b) > 0;
