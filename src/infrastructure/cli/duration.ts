const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 };
const DURATION = /^(\d{1,9})([smhd]?)$/;

/** `90`, `90s`, `15m`, `1h`, `7d` as whole seconds; null when it is none of these. */
export function parseDurationSeconds(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (match === null) return null;
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] || 's'] ?? 1);
  return seconds > 0 ? seconds : null;
}
