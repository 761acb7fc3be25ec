/**
 * Wall-clock time in an IANA time zone, with Node's Intl only: what a local date and time means
 * as an instant, and which local date an instant falls on. DST is handled by asking Intl for the
 * zone's offset at the instant itself.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(timeZone: string) {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws a readable error for a zone Intl does not know. */
export function assertTimeZone(timeZone: string, where: string) {
  try {
    formatterOf(timeZone);
  } catch {
    throw new Error(
      `${where}: unknown time zone "${timeZone}" (use an IANA name such as Europe/Berlin)`,
    );
  }
}

/** The local calendar date and time of an instant in a zone. */
export function localPartsOf(instant: number, timeZone: string) {
  const parts: Record<string, number> = {};
  for (const p of formatterOf(timeZone).formatToParts(new Date(instant))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year,
    month: parts.month,
    day: parts.day,
    hour: parts.hour,
    minute: parts.minute,
    second: parts.second,
  };
}

/** The zone's offset from UTC at an instant, in ms (Berlin in winter: +3 600 000). */
function offsetAt(instant: number, timeZone: string) {
  const p = localPartsOf(instant, timeZone);
  const asUtc = Date.UTC(
    p.year,
    p.month - 1,
    p.day,
    p.hour,
    p.minute,
    p.second,
  );
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant a local date and time stands for. A time that a spring-forward skips (02:30 on the
 * night clocks go from 02:00 to 03:00) is taken as the same distance after the gap (03:30); one
 * that an autumn fall-back repeats is its first occurrence.
 */
export function instantOf(
  local: { year: number; month: number; day: number; minutes: number },
  timeZone: string,
): number {
  const wall =
    Date.UTC(local.year, local.month - 1, local.day) + local.minutes * 60_000;
  // The zone's offsets around that day; a zone changes its offset at most once within a day.
  const day = 86_400_000;
  const candidates = [wall - day, wall, wall + day]
    .map(probe => wall - offsetAt(probe, timeZone))
    .sort((a, b) => a - b);
  const exact = candidates.find(c => c + offsetAt(c, timeZone) === wall);
  // A repeated hour: its first occurrence. A skipped hour: the offset before the gap, which lands
  // the same distance after it.
  return exact ?? candidates[candidates.length - 1];
}
