import { EgressLanes } from '../../../src/egress/egress-lanes';
import type { EgressConsumer, EgressConsumerStats } from '../../../src/egress/egress-consumer';

function lane(stats: Partial<EgressConsumerStats>, ready = true, startError?: Error) {
  const calls: string[] = [];
  const full: EgressConsumerStats = {
    handled: 0,
    unrouted: 0,
    poison: 0,
    retries: 0,
    commits: 0,
    joins: 0,
    heartbeats: 0,
    paused: false,
    assignedPartitions: 0,
    detachedPartitions: 0,
    ...stats,
  };
  const consumer = {
    state: 'running',
    hasJoined: true,
    isReady: () => ready,
    stats: () => full,
    diagnostics: () => ({ joins: full.joins }),
    start: () => {
      calls.push('start');
      return startError ? Promise.reject(startError) : Promise.resolve();
    },
    stop: () => {
      calls.push('stop');
      return Promise.resolve();
    },
  };
  return { consumer: consumer as unknown as EgressConsumer, calls };
}

describe('EgressLanes', () => {
  it('sums the record counters and reports the normal lane’s group state', () => {
    const lanes = new EgressLanes({
      urgent: lane({ handled: 1, joins: 5, assignedPartitions: 2 }).consumer,
      normal: lane({ handled: 10, poison: 1, joins: 1, assignedPartitions: 4, heartbeats: 7 }).consumer,
      bulk: lane({ handled: 100, commits: 3, joins: 2, paused: true }).consumer,
    });
    const s = lanes.stats();
    expect(s).toMatchObject({ handled: 111, poison: 1, commits: 3, joins: 1, assignedPartitions: 4, heartbeats: 7 });
    expect(s.paused).toBe(false);
    expect(s.lanes.bulk.paused).toBe(true);
  });

  it('is ready only while every lane is', () => {
    const ok = () => lane({}).consumer;
    expect(new EgressLanes({ urgent: ok(), normal: ok(), bulk: ok() }).isReady()).toBe(true);
    expect(new EgressLanes({ urgent: lane({}, false).consumer, normal: ok(), bulk: ok() }).isReady()).toBe(false);
  });

  it('starts every lane; when one cannot start, stops them all and fails', async () => {
    const urgent = lane({});
    const normal = lane({});
    const bulk = lane({}, true, new Error('no topic'));
    const lanes = new EgressLanes({ urgent: urgent.consumer, normal: normal.consumer, bulk: bulk.consumer });
    await expect(lanes.start()).rejects.toThrow('no topic');
    for (const l of [urgent, normal, bulk]) expect(l.calls).toEqual(['start', 'stop']);
  });
});

describe('EgressLanes.diagnostics', () => {
  it('gives each lane’s diagnostics by lane', () => {
    const lanes = new EgressLanes({
      urgent: lane({ joins: 1 }).consumer,
      normal: lane({ joins: 2 }).consumer,
      bulk: lane({ joins: 3 }).consumer,
    });
    expect(lanes.diagnostics()).toEqual({ urgent: { joins: 1 }, normal: { joins: 2 }, bulk: { joins: 3 } });
  });
});
