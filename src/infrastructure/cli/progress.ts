/**
 * Progress of long CLI work (projection rebuilds and audits) as text: a bar redrawn in
 * place on a terminal, a plain line every few seconds anywhere else (a pipe, a log file, CI),
 * so that a piped run says how far it is instead of going quiet until it ends.
 * Pure: the clock and the output are passed in.
 */

export interface ProgressSample {
  /** What is being worked on, e.g. the projection name. */
  readonly label: string;
  /** What it is doing now, e.g. `replaying`. */
  readonly phase: string;
  readonly done: number;
  /** Null when the total cannot be known cheaply: then there is no percent and no ETA. */
  readonly total: number | null;
  readonly elapsedMs: number;
}

export interface ProgressFigures {
  /** 0–100; capped, because work that arrives while it runs can take `done` past `total`. */
  readonly percent: number | null;
  readonly perSecond: number | null;
  readonly etaSeconds: number | null;
}

/** Below this a rate is mostly start-up noise: say nothing rather than something wild. */
const MIN_ELAPSED_FOR_RATE_MS = 200;

export function progressFigures(s: ProgressSample): ProgressFigures {
  const percent = s.total === null ? null : s.total === 0 ? 100 : Math.min(100, (100 * s.done) / s.total);
  const perSecond = s.elapsedMs >= MIN_ELAPSED_FOR_RATE_MS && s.done > 0 ? (1000 * s.done) / s.elapsedMs : null;
  const etaSeconds = s.total === null || perSecond === null ? null : Math.max(0, s.total - s.done) / perSecond;
  return { percent, perSecond, etaSeconds };
}

/** 1234567 → "1,234,567", whatever the locale of the machine. */
export const formatCount = (n: number): string => Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** Seconds as "0.4s", "42s", "3m05s", "2h07m". */
export function formatDuration(seconds: number): string {
  if (seconds < 10) return `${(Math.round(seconds * 10) / 10).toFixed(1)}s`;
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3_600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3_600)}h${String(Math.floor((whole % 3_600) / 60)).padStart(2, '0')}m`;
}

const formatPercent = (p: number): string => `${p.toFixed(1)}%`;

const BAR_WIDTH = 24;

function bar(percent: number): string {
  const filled = Math.round((percent / 100) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
}

/**
 * The live terminal line. It must fit in `columns` (a wrapped line cannot be redrawn): the bar
 * goes first when space is short, then the line is cut.
 */
export function renderBar(s: ProgressSample, columns: number): string {
  const f = progressFigures(s);
  const figures = [s.total === null ? `${formatCount(s.done)} ev` : `${formatCount(s.done)}/${formatCount(s.total)} ev`];
  if (f.perSecond !== null) figures.push(`${formatCount(f.perSecond)} ev/s`);
  if (f.etaSeconds !== null) figures.push(`ETA ${formatDuration(f.etaSeconds)}`);
  const head = `${s.label} ${s.phase}`;
  const percent = f.percent === null ? null : formatPercent(f.percent).padStart(6);
  const withBar = [head, ...(percent === null ? [] : [`${bar(f.percent ?? 0)} ${percent}`]), ...figures].join('  ');
  if (withBar.length < columns) return withBar;
  const withoutBar = [head, ...(percent === null ? [] : [percent.trim()]), ...figures].join('  ');
  return withoutBar.length < columns ? withoutBar : withoutBar.slice(0, Math.max(0, columns - 1));
}

/** One self-contained line for logs. */
export function renderLine(s: ProgressSample): string {
  const f = progressFigures(s);
  let line = `${s.label}: ${s.phase} ${formatCount(s.done)}`;
  line += s.total === null ? ' events' : `/${formatCount(s.total)} events (${formatPercent(f.percent ?? 0)})`;
  if (f.perSecond !== null) line += `, ${formatCount(f.perSecond)} ev/s`;
  if (f.etaSeconds !== null) line += `, ETA ${formatDuration(f.etaSeconds)}`;
  return line;
}

/** The closing line: what was done, how much, how long, how fast. */
export function renderSummary(label: string, verb: string, done: number, elapsedMs: number): string {
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? `, ${formatCount(done / seconds)} ev/s` : '';
  return `${label}: ${verb} ${formatCount(done)} events in ${formatDuration(seconds)}${rate}`;
}

export interface ProgressOutput {
  /** A terminal gets the redrawn bar; anything else gets lines. */
  readonly tty: boolean;
  /** Terminal width; ignored for lines. */
  readonly columns: number;
  readonly write: (text: string) => void;
  readonly nowMs: () => number;
}

/** A terminal redraw faster than this only burns CPU that the work needs. */
export const TTY_REDRAW_MS = 100;
/** Often enough to show it is alive, rarely enough to keep a log readable. */
export const LINE_INTERVAL_MS = 3_000;

const CLEAR_TO_END = '\u001b[K';

/**
 * Turns a stream of updates into output: redraws at most every TTY_REDRAW_MS on a terminal;
 * elsewhere writes the first update, every phase change and then a line every
 * LINE_INTERVAL_MS. The clock starts at construction.
 */
export class ProgressDisplay {
  private readonly startedMs: number;
  private lastWrittenMs = Number.NEGATIVE_INFINITY;
  private lastPhase: string | null = null;
  private lineOpen = false;

  constructor(
    private readonly out: ProgressOutput,
    private readonly label: string,
    private readonly total: number | null,
  ) {
    this.startedMs = out.nowMs();
  }

  elapsedMs(): number {
    return this.out.nowMs() - this.startedMs;
  }

  update(phase: string, done: number): void {
    const now = this.out.nowMs();
    const phaseChanged = phase !== this.lastPhase;
    const interval = this.out.tty ? TTY_REDRAW_MS : LINE_INTERVAL_MS;
    if (!phaseChanged && now - this.lastWrittenMs < interval) return;
    this.lastWrittenMs = now;
    this.lastPhase = phase;
    const sample: ProgressSample = { label: this.label, phase, done, total: this.total, elapsedMs: now - this.startedMs };
    if (this.out.tty) {
      this.out.write(`\r${renderBar(sample, this.out.columns)}${CLEAR_TO_END}`);
      this.lineOpen = true;
    } else {
      this.out.write(`${renderLine(sample)}\n`);
    }
  }

  /** Replaces the live line (or follows the lines) with the summary. */
  succeed(verb: string, done: number): void {
    const summary = renderSummary(this.label, verb, done, this.elapsedMs());
    this.out.write(this.lineOpen ? `\r${summary}${CLEAR_TO_END}\n` : `${summary}\n`);
    this.lineOpen = false;
  }

  /** Leaves the last progress on screen and ends its line, so that an error prints below it. */
  stop(): void {
    if (this.lineOpen) this.out.write('\n');
    this.lineOpen = false;
  }
}
