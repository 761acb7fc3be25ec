import { PreviousStage, readinessOf } from './readiness';
import { sameRelease } from './release';

const IMAGE = 'ghcr.io/acme/checkout:1.1.0';
const COMPLETED_AT = new Date('2026-12-02T10:00:00.000Z');
const SOAK = 600;

function staging(overrides: Partial<PreviousStage> = {}): PreviousStage {
  return {
    name: 'staging',
    soakSeconds: SOAK,
    view: {
      phase: 'Healthy',
      message: 'All 2 replicas run it',
      stableImage: IMAGE,
    },
    completed: { image: IMAGE, at: COMPLETED_AT },
    ...overrides,
  };
}

const at = (ms: number) => new Date(COMPLETED_AT.getTime() + ms);

describe('readinessOf', () => {
  it('waits for the soak until exactly its end, and is ready from then on', () => {
    const justShort = readinessOf(staging(), IMAGE, at(SOAK * 1000 - 1));
    expect(justShort).toEqual({
      ready: false,
      wait: expect.objectContaining({
        kind: 'soak',
        until: '2026-12-02T10:10:00.000Z',
        remainingSeconds: 1,
      }),
    });
    expect(readinessOf(staging(), IMAGE, at(SOAK * 1000))).toEqual({
      ready: true,
      since: COMPLETED_AT,
    });
    expect(readinessOf(staging(), IMAGE, at(SOAK * 1000 + 1)).ready).toBe(true);
  });

  it('counts the soak from the completed event, not from when the stage was first seen', () => {
    const result = readinessOf(staging(), IMAGE, at(60_000));
    expect(result.ready).toBe(false);
    expect(!result.ready && result.wait.remainingSeconds).toBe(540);
  });

  it('is ready at once when the stage has no soak', () => {
    expect(
      readinessOf(staging({ soakSeconds: 0 }), IMAGE, COMPLETED_AT).ready,
    ).toBe(true);
  });

  it('stops a release that failed in the previous stage', () => {
    const result = readinessOf(
      staging({
        view: {
          phase: 'Aborted',
          message: 'Health gate: canary pods crash-loop',
          stableImage: 'ghcr.io/acme/checkout:1.0.0',
          targetImage: IMAGE,
        },
      }),
      IMAGE,
      at(3_600_000),
    );
    expect(result).toEqual({
      ready: false,
      wait: {
        kind: 'failed',
        message: expect.stringMatching(
          /failed in staging \(Aborted: Health gate.*it stops there/,
        ),
      },
    });
  });

  it('waits while the release still rolls out, and for another release in flight', () => {
    const rolling = readinessOf(
      staging({
        view: {
          phase: 'Progressing',
          message: '',
          stableImage: 'x:1',
          targetImage: IMAGE,
        },
      }),
      IMAGE,
      at(3_600_000),
    );
    expect(!rolling.ready && rolling.wait).toMatchObject({
      kind: 'previous-stage',
      message: expect.stringMatching(/still rolling out/),
    });
    const other = readinessOf(
      staging({
        view: {
          phase: 'Progressing',
          message: '',
          stableImage: IMAGE,
          targetImage: 'x:2',
        },
      }),
      IMAGE,
      at(3_600_000),
    );
    expect(!other.ready && other.wait.message).toMatch(/rolling out x:2, not/);
  });

  it('needs the completed event to name the same release as the live view', () => {
    const stale = readinessOf(
      staging({
        completed: { image: 'ghcr.io/acme/checkout:1.0.0', at: COMPLETED_AT },
      }),
      IMAGE,
      at(3_600_000),
    );
    expect(!stale.ready && stale.wait.message).toMatch(
      /no record of a completed rollout/,
    );
    const none = readinessOf(
      staging({ completed: undefined }),
      IMAGE,
      at(3_600_000),
    );
    expect(none.ready).toBe(false);
  });

  it('waits for a Healthy stage whose analysis runs, and stops on a failed one', () => {
    const running = readinessOf(
      staging({ view: { ...staging().view!, analysis: { phase: 'Running' } } }),
      IMAGE,
      at(3_600_000),
    );
    expect(!running.ready && running.wait.kind).toBe('analysis');
    const failed = readinessOf(
      staging({ view: { ...staging().view!, analysis: { phase: 'Failed' } } }),
      IMAGE,
      at(3_600_000),
    );
    expect(!failed.ready && failed.wait.kind).toBe('failed');
    const passed = readinessOf(
      staging({
        view: { ...staging().view!, analysis: { phase: 'Successful' } },
      }),
      IMAGE,
      at(3_600_000),
    );
    expect(passed.ready).toBe(true);
  });

  it('refuses when the stage runs another release or is not Healthy', () => {
    const other = readinessOf(
      staging(),
      'ghcr.io/acme/checkout:1.2.0',
      at(3_600_000),
    );
    expect(!other.ready && other.wait.message).toMatch(
      /runs ghcr.io\/acme\/checkout:1.1.0, not/,
    );
    const paused = readinessOf(
      staging({ view: { ...staging().view!, phase: 'Paused' } }),
      IMAGE,
      at(3_600_000),
    );
    expect(!paused.ready && paused.wait.message).toMatch(/is Paused/);
    const missing = readinessOf(
      staging({ view: undefined }),
      IMAGE,
      at(3_600_000),
    );
    expect(!missing.ready && missing.wait.message).toMatch(/no workload/);
  });
});

describe('sameRelease', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  it('identifies a release by its digest where it has one', () => {
    expect(
      sameRelease(
        `ghcr.io/acme/api:1.4@${digest}`,
        `ghcr.io/acme/api@${digest}`,
      ),
    ).toBe(true);
    expect(
      sameRelease(
        `ghcr.io/acme/api:1.4@${digest}`,
        `ghcr.io/acme/api:1.4@sha256:${'b'.repeat(64)}`,
      ),
    ).toBe(false);
    expect(
      sameRelease(`ghcr.io/acme/api@${digest}`, `ghcr.io/acme/other@${digest}`),
    ).toBe(false);
    expect(
      sameRelease(
        `localhost:5000/api@${digest}`,
        `localhost:5000/api:2@${digest}`,
      ),
    ).toBe(true);
  });
  it('never takes a tag for a digest, and compares tags exactly', () => {
    expect(
      sameRelease(`ghcr.io/acme/api:1.4@${digest}`, 'ghcr.io/acme/api:1.4'),
    ).toBe(false);
    expect(sameRelease('ghcr.io/acme/api:1.4', 'ghcr.io/acme/api:1.4')).toBe(
      true,
    );
    expect(sameRelease('ghcr.io/acme/api:1.4', 'ghcr.io/acme/api:1.40')).toBe(
      false,
    );
    expect(sameRelease(undefined, 'x')).toBe(false);
  });
});
