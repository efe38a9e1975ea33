import { readinessRecovery } from '../../reliability/readiness-recovery';

describe('readinessRecovery', () => {
  it('reports readiness back before the fault injection returned (a restarted broker) as back, not as lost', () => {
    // The broker-kill run on eb7be18: fault 10054..72155 ms, /readyz 503 at 13936, 200 again at 70056.
    const timeline = [
      { atMs: 84, readyz: 200 },
      { atMs: 13_936, readyz: 503 },
      { atMs: 70_056, readyz: 200 },
    ];
    expect(readinessRecovery(timeline, 10_054, 72_155)).toBe(
      '/readyz not 200 from 3.9 s, 200 again at 60.0 s; fault over at 62.1 s',
    );
  });

  it('counts several not-ready spells and takes the last return', () => {
    const timeline = [
      { atMs: 65, readyz: 200 },
      { atMs: 17_742, readyz: 503 },
      { atMs: 28_212, readyz: 200 },
      { atMs: 42_733, readyz: 503 },
      { atMs: 44_442, readyz: 200 },
    ];
    expect(readinessRecovery(timeline, 11_494, 70_542)).toBe(
      '/readyz not 200 from 6.2 s, 200 again at 32.9 s (2 not-ready spells); fault over at 59.0 s',
    );
  });

  it('says when readiness never came back, and when it never left', () => {
    expect(
      readinessRecovery(
        [
          { atMs: 0, readyz: 200 },
          { atMs: 5_000, readyz: 0 },
        ],
        1_000,
        3_000,
      ),
    ).toBe('/readyz not 200 from 4.0 s, not 200 again by the end of the run; fault over at 2.0 s');
    expect(readinessRecovery([{ atMs: 0, readyz: 200 }], 1_000, 3_000)).toBe(
      '/readyz stayed 200 (fault over at 2.0 s)',
    );
  });
});
