import { AccountCircuits } from '../../../../src/twilio/egress/account-circuits';
import { systemClock } from '../../../../src/common/clock';
import type { CircuitState } from '../../../../src/resilience/circuit-breaker';

beforeEach(() => jest.useFakeTimers({ now: 0 }));
afterEach(() => jest.useRealTimers());

describe('AccountCircuits', () => {
  it('tells subscribers every transition of every account, until they unsubscribe', async () => {
    const worst: CircuitState[] = [];
    const circuits = new AccountCircuits({
      failureThreshold: 1,
      resetTimeoutMs: 1000,
      clock: systemClock,
      onChange: (w) => worst.push(w),
    });
    const seen: string[] = [];
    const unsubscribe = circuits.subscribe((account, state, previous) => seen.push(`${account} ${previous}→${state}`));

    (await circuits.for('AC1').acquire()).failure();
    jest.advanceTimersByTime(1000); // half-open
    (await circuits.for('AC1').acquire()).failure(); // the probe fails at once: open again
    (await circuits.for('AC2').acquire()).failure();
    unsubscribe();
    jest.advanceTimersByTime(1000);

    expect(seen).toEqual(['AC1 closed→open', 'AC1 open→half_open', 'AC1 half_open→open', 'AC2 closed→open']);
    expect(worst).toEqual(['open', 'half_open', 'open', 'open', 'open', 'half_open']); // onChange still hears all
    circuits.dispose();
  });
});
