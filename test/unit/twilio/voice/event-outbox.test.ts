import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { VoiceEnvelopeBuilder, type InternalEventV2 } from '../../../../src/envelope';
import { silentLogger } from '../../../../src/observability';
import { EventOutbox, type OutboxEntry } from '../../../../src/twilio/voice/event-outbox';
import { onCleanup } from '../../../helpers/cleanup';
import { ACCOUNT_SID, callSid } from '../../../helpers/envelopes';
import { MemoryPublisher } from '../../../helpers/memory-publisher';
import { clockFrom } from '../../../../src/common/clock';

const voice = new VoiceEnvelopeBuilder(clockFrom(() => Date.parse('2024-05-01T12:00:00.000Z')));
const call = (n: number): InternalEventV2 =>
  voice.callReceived({ CallSid: callSid(n), AccountSid: ACCOUNT_SID, From: '+14155550123', To: '+14155550100' });

const freshDir = () => mkdtempSync(path.join(tmpdir(), 'outbox-test-'));

async function started(
  dir: string,
  publisher: MemoryPublisher,
  extra: Partial<ConstructorParameters<typeof EventOutbox>[0]> = {},
): Promise<EventOutbox> {
  const outbox = new EventOutbox({ dir, publisher, logger: silentLogger, retryMs: 1, maxRetryMs: 5, ...extra });
  onCleanup(() => outbox.stop());
  await outbox.start();
  return outbox;
}

/** Resolves once the outbox has nothing left to publish (or rejects after `turns` event-loop turns). */
async function drained(outbox: EventOutbox, turns = 10_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (outbox.pending === 0) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`outbox still has ${outbox.pending} pending`);
}

const ready = () => {
  const p = new MemoryPublisher();
  p.started = true;
  return p;
};

describe('EventOutbox', () => {
  it('resolves an append once the event is on disk, then publishes it with its own id', async () => {
    const dir = freshDir();
    const publisher = ready();
    const outbox = await started(dir, publisher);
    const event = call(1);
    await outbox.append(event);
    const onDisk = readdirSync(dir)
      .filter((f) => f.startsWith('segment-'))
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .join('');
    expect(onDisk).toContain(event.id);
    await drained(outbox);
    expect(publisher.events.map((e) => e.id)).toEqual([event.id]);
  });

  it('publishes in append order, many appends sharing writes', async () => {
    const publisher = ready();
    const outbox = await started(freshDir(), publisher);
    const events = Array.from({ length: 300 }, (_, i) => call(i + 1));
    await Promise.all(events.map((e) => outbox.append(e)));
    await drained(outbox);
    expect(publisher.events.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('keeps events while Kafka is down and publishes them, in order, when it is back', async () => {
    const publisher = ready();
    publisher.down = true;
    const outbox = await started(freshDir(), publisher);
    const events = [call(1), call(2), call(3)];
    for (const e of events) await outbox.append(e);
    expect(outbox.pending).toBe(3);
    expect(publisher.events).toEqual([]);
    publisher.down = false;
    outbox.poke();
    await drained(outbox);
    expect(publisher.events.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('after a crash, publishes what was not acknowledged, once, and skips what Kafka already has', async () => {
    const dir = freshDir();
    const first = ready();
    first.down = true; // never acknowledged: as if killed before Kafka acked
    const crashed = new EventOutbox({ dir, publisher: first, logger: silentLogger, retryMs: 1000 });
    await crashed.start();
    const events = [call(1), call(2), call(3)];
    for (const e of events) await crashed.append(e);
    // No stop(): the process died. Its lock names a pid that is gone.
    writeFileSync(path.join(dir, 'owner.pid'), '999999999');

    const second = ready();
    const checked: OutboxEntry[][] = [];
    const outbox = await started(dir, second, {
      alreadyPublished: (entries) => {
        checked.push([...entries]);
        return Promise.resolve(new Set([events[1]!.id])); // Kafka wrote #2 before the crash
      },
    });
    await drained(outbox);
    expect(checked[0]!.map((e) => e.event.id)).toEqual(events.map((e) => e.id));
    expect(second.events.map((e) => e.id)).toEqual([events[0]!.id, events[2]!.id]);
    await outbox.stop();
    await crashed.stop();

    // A third start publishes nothing again: the cursor covers everything.
    const third = ready();
    const again = await started(dir, third);
    await drained(again);
    expect(third.events).toEqual([]);
  });

  it('checks Kafka before retrying a failed attempt (its records may have been written)', async () => {
    const publisher = ready();
    let failures = 1;
    const original = publisher.publish.bind(publisher);
    publisher.publish = async (e) => {
      if (failures-- > 0) {
        await original(e); // written, but the ack is lost
        throw new Error('request timed out');
      }
      return original(e);
    };
    const outbox = await started(freshDir(), publisher, {
      alreadyPublished: () => Promise.resolve(new Set(publisher.events.map((e) => e.id))),
    });
    const event = call(7);
    await outbox.append(event);
    await drained(outbox);
    expect(publisher.events.map((e) => e.id)).toEqual([event.id]);
  });

  it('skips a torn last line and never appends after it', async () => {
    const dir = freshDir();
    const publisher = ready();
    publisher.down = true;
    const a = new EventOutbox({ dir, publisher, logger: silentLogger, retryMs: 1000 });
    await a.start();
    await a.append(call(1));
    const segment = readdirSync(dir).find((f) => f.startsWith('segment-'))!;
    appendFileSync(path.join(dir, segment), '{"s":2,"t":1,"e":{"specVers');
    writeFileSync(path.join(dir, 'owner.pid'), '999999999');

    const second = ready();
    const b = await started(dir, second);
    await b.append(call(3));
    await drained(b);
    expect(second.events.map((e) => e.type === 'voice.call.received' && e.data.callSid)).toEqual([
      callSid(1),
      callSid(3),
    ]);
    expect(readdirSync(dir).filter((f) => f.startsWith('segment-')).length).toBeGreaterThanOrEqual(1);
    await a.stop();
  });

  it('drops segments once everything in them is acknowledged', async () => {
    const dir = freshDir();
    const publisher = ready();
    const outbox = await started(dir, publisher, { segmentBytes: 2000 });
    for (let i = 0; i < 30; i++) await outbox.append(call(i + 1));
    await drained(outbox);
    await outbox.stop();
    const segments = readdirSync(dir).filter((f) => f.startsWith('segment-'));
    expect(segments.length).toBeLessThanOrEqual(2);
    expect(Number(readFileSync(path.join(dir, 'acked'), 'utf8'))).toBe(30);
    expect(existsSync(path.join(dir, 'owner.pid'))).toBe(false);
  });

  it('refuses a directory another live process owns', async () => {
    const dir = freshDir();
    writeFileSync(path.join(dir, 'owner.pid'), String(process.ppid));
    const outbox = new EventOutbox({ dir, publisher: ready(), logger: silentLogger });
    await expect(outbox.start()).rejects.toThrow(/in use by another process/);
  });

  it('refuses appends once stopped', async () => {
    const outbox = await started(freshDir(), ready());
    await outbox.stop();
    await expect(outbox.append(call(1))).rejects.toMatchObject({ code: 'IE_LIFECYCLE' });
  });
});
