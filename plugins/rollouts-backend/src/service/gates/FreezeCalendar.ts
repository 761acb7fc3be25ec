import { Config } from '@backstage/config';
import {
  FreezeWindowView,
  GatedAction,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { GateTarget, TargetScope, scopeMatches } from './targets';
import { assertTimeZone, instantOf, localPartsOf } from './zonedTime';

const DAYS = [
  'sunday',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
] as const;

/** A weekly window: it begins on each of `days` at `from` and ends at the next `to` (or on `endDay`). */
interface Recurrence {
  days: number[];
  fromMinutes: number;
  toMinutes: number;
  /** The weekday it ends on, when that is days later (a weekend freeze: friday to monday). */
  endDay?: number;
  timeZone: string;
}

export interface FreezeWindow {
  name: string;
  message: string;
  scope: TargetScope;
  range?: { start: number; end: number };
  recurring?: Recurrence;
}

/** The actions a freeze refuses: those that move a new version forward. */
export const FROZEN_ACTIONS: ReadonlySet<string> = new Set<GatedAction>([
  'start',
  'promote',
  'promote-full',
  'retry',
]);

const ISO_WITH_OFFSET =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function minutesOf(value: string, where: string) {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (!m)
    throw new Error(`${where} must be a time of day as HH:MM, got "${value}"`);
  return Number(m[1]) * 60 + Number(m[2]);
}

function dayOf(value: string, where: string) {
  const i = DAYS.indexOf(
    value.toLocaleLowerCase('en-US') as (typeof DAYS)[number],
  );
  if (i < 0)
    throw new Error(
      `${where} must be a day of the week (monday ... sunday), got "${value}"`,
    );
  return i;
}

function instantFrom(value: string, where: string) {
  if (!ISO_WITH_OFFSET.test(value)) {
    throw new Error(
      `${where} must be an ISO 8601 date and time with an offset (2026-12-24T00:00:00+01:00), got "${value}"`,
    );
  }
  return Date.parse(value);
}

/** Reads `rollouts.freezeWindows[]`, refusing at startup what it cannot understand. */
export function readFreezeWindows(config: Config): FreezeWindow[] {
  const entries = config.getOptionalConfigArray('rollouts.freezeWindows') ?? [];
  const names = new Set<string>();
  return entries.map((c, i) => {
    const where = `rollouts.freezeWindows[${i}]`;
    const name = c.getString('name');
    if (names.has(name))
      throw new Error(`${where}: the name "${name}" is used twice`);
    names.add(name);
    const window: FreezeWindow = {
      name,
      message: c.getOptionalString('message') ?? `Changes are frozen (${name})`,
      scope: {
        clusters: c.getOptionalStringArray('clusters'),
        namespaces: c.getOptionalStringArray('namespaces'),
      },
    };
    const hasRange = c.has('start') || c.has('end');
    if (hasRange === c.has('recurring')) {
      throw new Error(
        `${where} "${name}" needs either start and end, or recurring`,
      );
    }
    if (hasRange) {
      const start = instantFrom(c.getString('start'), `${where}.start`);
      const end = instantFrom(c.getString('end'), `${where}.end`);
      if (!(end > start))
        throw new Error(`${where} "${name}": end must be after start`);
      window.range = { start, end };
    } else {
      const r = c.getConfig('recurring');
      const timeZone = r.getString('timeZone');
      assertTimeZone(timeZone, `${where}.recurring.timeZone`);
      const days = r
        .getStringArray('days')
        .map(d => dayOf(d, `${where}.recurring.days`));
      if (!days.length)
        throw new Error(`${where}.recurring.days must name at least one day`);
      const endDay = r.getOptionalString('endDay');
      window.recurring = {
        days,
        fromMinutes: minutesOf(r.getString('from'), `${where}.recurring.from`),
        toMinutes: minutesOf(r.getString('to'), `${where}.recurring.to`),
        endDay:
          endDay === undefined
            ? undefined
            : dayOf(endDay, `${where}.recurring.endDay`),
        timeZone,
      };
      if (
        window.recurring.endDay === undefined &&
        window.recurring.fromMinutes === window.recurring.toMinutes
      ) {
        throw new Error(
          `${where}.recurring: from and to are the same time; give endDay for a window of whole days`,
        );
      }
    }
    return window;
  });
}

const DAY_MS = 86_400_000;

/** The occurrences of a weekly window that begin within a week before `now` and a week after. */
function occurrences(r: Recurrence, now: number) {
  const today = localPartsOf(now, r.timeZone);
  // Calendar arithmetic on the local date, as a UTC midnight (never as an instant).
  const todayDate = Date.UTC(today.year, today.month - 1, today.day);
  const result: Array<{ start: number; end: number }> = [];
  for (let offset = -8; offset <= 8; offset++) {
    const date = new Date(todayDate + offset * DAY_MS);
    if (!r.days.includes(date.getUTCDay())) continue;
    let daysToEnd: number;
    if (r.endDay !== undefined) {
      daysToEnd = (r.endDay - date.getUTCDay() + 7) % 7;
      if (daysToEnd === 0 && r.toMinutes <= r.fromMinutes) daysToEnd = 7;
    } else {
      daysToEnd = r.toMinutes > r.fromMinutes ? 0 : 1;
    }
    const endDate = new Date(date.getTime() + daysToEnd * DAY_MS);
    const at = (d: Date, minutes: number) =>
      instantOf(
        {
          year: d.getUTCFullYear(),
          month: d.getUTCMonth() + 1,
          day: d.getUTCDate(),
          minutes,
        },
        r.timeZone,
      );
    result.push({
      start: at(date, r.fromMinutes),
      end: at(endDate, r.toMinutes),
    });
  }
  return result;
}

/**
 * The freeze windows from config, asked about one target at one instant (the caller's clock):
 * which window is in force, and which comes next. A window includes its start instant and
 * excludes its end: at `end` changes are allowed again.
 */
export class FreezeCalendar {
  constructor(private readonly windows: FreezeWindow[]) {}

  static fromConfig(config: Config) {
    return new FreezeCalendar(readFreezeWindows(config));
  }

  /** The window in force for the target at `now`, the one that ends last when several overlap. */
  activeAt(target: GateTarget, now: Date): FreezeWindowView | undefined {
    return this.spans(target, now.getTime())
      .filter(s => s.start <= now.getTime() && now.getTime() < s.end)
      .sort((a, b) => b.end - a.end)
      .map(s => this.viewOf(s, true))[0];
  }

  /** The window in force, or else the next one to begin (within a week for recurring ones). */
  shownAt(target: GateTarget, now: Date): FreezeWindowView | undefined {
    const active = this.activeAt(target, now);
    if (active) return active;
    return this.spans(target, now.getTime())
      .filter(s => s.start > now.getTime())
      .sort((a, b) => a.start - b.start)
      .map(s => this.viewOf(s, false))[0];
  }

  private spans(target: GateTarget, now: number) {
    return this.windows
      .filter(w => scopeMatches(w.scope, target))
      .flatMap(w =>
        (w.range ? [w.range] : occurrences(w.recurring!, now)).map(span => ({
          ...span,
          window: w,
        })),
      );
  }

  private viewOf(
    s: { start: number; end: number; window: FreezeWindow },
    active: boolean,
  ): FreezeWindowView {
    return {
      name: s.window.name,
      message: s.window.message,
      start: new Date(s.start).toISOString(),
      end: new Date(s.end).toISOString(),
      active,
    };
  }
}
