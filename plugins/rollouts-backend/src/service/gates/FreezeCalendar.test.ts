import { ConfigReader } from '@backstage/config';
import { FreezeCalendar } from './FreezeCalendar';

function calendar(freezeWindows: any[]) {
  return FreezeCalendar.fromConfig(
    new ConfigReader({ rollouts: { freezeWindows } }),
  );
}

const prod = { cluster: 'production', namespace: 'shop' };
const staging = { cluster: 'staging', namespace: 'shop' };
const at = (iso: string) => new Date(iso);

describe('FreezeCalendar', () => {
  describe('a date range', () => {
    const year = calendar([
      {
        name: 'year-end',
        message: 'No changes over the holidays',
        clusters: ['production'],
        start: '2026-12-24T00:00:00+01:00',
        end: '2027-01-02T08:00:00+01:00',
      },
    ]);

    it('is in force from its start instant, not a millisecond before', () => {
      expect(
        year.activeAt(prod, at('2026-12-23T22:59:59.999Z')),
      ).toBeUndefined();
      expect(year.activeAt(prod, at('2026-12-23T23:00:00.000Z'))).toEqual({
        name: 'year-end',
        message: 'No changes over the holidays',
        start: '2026-12-23T23:00:00.000Z',
        end: '2027-01-02T07:00:00.000Z',
        active: true,
      });
    });

    it('is over at its end instant', () => {
      expect(year.activeAt(prod, at('2027-01-02T06:59:59.999Z'))?.name).toBe(
        'year-end',
      );
      expect(
        year.activeAt(prod, at('2027-01-02T07:00:00.000Z')),
      ).toBeUndefined();
    });

    it('shows as upcoming before it begins, and applies only to its scope', () => {
      expect(year.shownAt(prod, at('2026-12-01T00:00:00Z'))).toMatchObject({
        name: 'year-end',
        active: false,
      });
      expect(year.shownAt(staging, at('2026-12-25T00:00:00Z'))).toBeUndefined();
      expect(year.shownAt(prod, at('2027-02-01T00:00:00Z'))).toBeUndefined();
    });
  });

  describe('a weekly window in a time zone', () => {
    const weekend = (timeZone: string) =>
      calendar([
        {
          name: 'weekend',
          message: 'Weekend freeze',
          recurring: {
            days: ['friday'],
            from: '16:00',
            endDay: 'monday',
            to: '08:00',
            timeZone,
          },
        },
      ]);

    it('runs from Friday 16:00 to Monday 08:00 Berlin time (UTC+1 in winter)', () => {
      const berlin = weekend('Europe/Berlin');
      // Friday 2026-12-04 16:00 CET = 15:00Z.
      expect(
        berlin.activeAt(prod, at('2026-12-04T14:59:59.999Z')),
      ).toBeUndefined();
      expect(berlin.activeAt(prod, at('2026-12-04T15:00:00Z'))).toMatchObject({
        start: '2026-12-04T15:00:00.000Z',
        end: '2026-12-07T07:00:00.000Z',
      });
      expect(berlin.activeAt(prod, at('2026-12-06T12:00:00Z'))?.name).toBe(
        'weekend',
      );
      expect(berlin.activeAt(prod, at('2026-12-07T07:00:00Z'))).toBeUndefined();
      expect(berlin.shownAt(prod, at('2026-12-07T07:00:00Z'))).toMatchObject({
        active: false,
        start: '2026-12-11T15:00:00.000Z',
      });
    });

    it('means other instants in another zone', () => {
      const ny = weekend('America/New_York');
      // Friday 16:00 EST = 21:00Z: still open in New York when Berlin is already frozen.
      expect(ny.activeAt(prod, at('2026-12-04T15:00:00Z'))).toBeUndefined();
      expect(ny.activeAt(prod, at('2026-12-04T21:00:00Z'))).toMatchObject({
        end: '2026-12-07T13:00:00.000Z',
      });
    });

    it('keeps its local times across a DST change inside the window', () => {
      const berlin = weekend('Europe/Berlin');
      // Clocks go back on Sunday 2026-10-25: the window starts at 16:00 CEST (14:00Z) and ends
      // Monday 08:00 CET (07:00Z): 63 hours and not 62.
      const w = berlin.activeAt(prod, at('2026-10-24T12:00:00Z'))!;
      expect(w.start).toBe('2026-10-23T14:00:00.000Z');
      expect(w.end).toBe('2026-10-26T07:00:00.000Z');
      // In spring (2026-03-29) the same window is an hour shorter.
      const spring = berlin.activeAt(prod, at('2026-03-28T12:00:00Z'))!;
      expect(spring.start).toBe('2026-03-27T15:00:00.000Z');
      expect(spring.end).toBe('2026-03-30T06:00:00.000Z');
    });

    it('runs nightly windows past midnight, and a time the spring change skips moves after the gap', () => {
      const nightly = calendar([
        {
          name: 'nightly',
          recurring: {
            days: ['sunday'],
            from: '02:30',
            to: '04:00',
            timeZone: 'Europe/Berlin',
          },
        },
        {
          name: 'late',
          recurring: {
            days: ['monday'],
            from: '22:00',
            to: '06:00',
            timeZone: 'Europe/Berlin',
          },
        },
      ]);
      // 02:30 does not exist on 2026-03-29 in Berlin: it starts at 03:30 CEST = 01:30Z.
      expect(
        nightly.activeAt(prod, at('2026-03-29T01:29:00Z')),
      ).toBeUndefined();
      expect(nightly.activeAt(prod, at('2026-03-29T01:30:00Z'))?.name).toBe(
        'nightly',
      );
      // Monday 22:00 CET to Tuesday 06:00 CET.
      expect(nightly.activeAt(prod, at('2026-12-08T04:59:00Z'))).toMatchObject({
        name: 'late',
        start: '2026-12-07T21:00:00.000Z',
        end: '2026-12-08T05:00:00.000Z',
      });
    });
  });

  it('refuses config it cannot understand, naming the key', () => {
    expect(() =>
      calendar([
        {
          name: 'x',
          start: '2026-12-24T00:00:00',
          end: '2026-12-25T00:00:00Z',
        },
      ]),
    ).toThrow(
      /freezeWindows\[0\]\.start must be an ISO 8601 date and time with an offset/,
    );
    expect(() =>
      calendar([
        {
          name: 'x',
          recurring: {
            days: ['fri'],
            from: '16:00',
            to: '08:00',
            timeZone: 'UTC',
          },
        },
      ]),
    ).toThrow(/must be a day of the week/);
    expect(() =>
      calendar([
        {
          name: 'x',
          recurring: {
            days: ['friday'],
            from: '16:00',
            to: '08:00',
            timeZone: 'Mars/Olympus',
          },
        },
      ]),
    ).toThrow(/unknown time zone "Mars\/Olympus"/);
    expect(() =>
      calendar([
        {
          name: 'x',
          start: '2026-12-25T00:00:00Z',
          end: '2026-12-24T00:00:00Z',
        },
      ]),
    ).toThrow(/end must be after start/);
    expect(() => calendar([{ name: 'x' }])).toThrow(
      /needs either start and end, or recurring/,
    );
  });
});
