import { AccountCircuits } from '../../../../src/twilio/egress/account-circuits';
import { systemClock } from '../../../../src/common/clock';
import type { CircuitState } from '../../../../src/resilience/circuit-breaker';
import { steppedClock } from '../../../helpers/stepped-clock';

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

  it('after an outage with no traffic, half-opens on the clock alone (fetching may resume); only a create closes it', async () => {
    const clock = steppedClock();
    const worst: CircuitState[] = [];
    const circuits = new AccountCircuits({
      failureThreshold: 2,
      resetTimeoutMs: 30_000,
      clock,
      onChange: (w) => worst.push(w),
    });
    const a = circuits.for('AC1');
    const b = circuits.for('AC2');
    for (let i = 0; i < 2; i++) (await a.acquire()).failure();
    expect(circuits.anyOpen()).toBe(true); // the consumers pause fetching
    clock.advance(30_000);
    // No call was made: the reset timeout alone half-opens it, so the consumers resume and a request can come.
    expect(a.state).toBe('half_open');
    expect(circuits.anyOpen()).toBe(false);
    clock.advance(6 * 3_600_000);
    expect(a.state).toBe('half_open'); // nothing has shown Twilio creates work again
    // A reconciliation list on the account succeeds: a read, it neither closes the circuit nor takes the probe.
    a.tryAcquireRead()!.success();
    expect(circuits.worst()).toBe('half_open');
    // The other account is not held back meanwhile.
    expect(b.tryAcquire()?.probe).toBe(false);
    const probe = await a.acquire();
    expect(probe.probe).toBe(true);
    probe.success();
    expect(circuits.worst()).toBe('closed');
    expect(worst).toEqual(['open', 'half_open', 'closed']);
    expect(clock.pending()).toBe(0);
    circuits.dispose();
  });
});
