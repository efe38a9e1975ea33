import { SyncStore, type SyncEvent } from '../../../src/conversations/sync-store';
import { SeededRng } from '../../../src/rng';

describe('SyncStore', () => {
  const store = () => new SyncStore(new SeededRng(1), () => Date.UTC(2024, 0, 1));

  it('gives every change a growing event id and replays exactly what came after a given id', () => {
    const s = store();
    const list = s.create('list', 'CH1.messages');
    const seen: SyncEvent[] = [];
    s.onEvent((e) => seen.push(e));
    const a = s.listAppend(list, { text: 'a' });
    const b = s.listAppend(list, { text: 'b' });
    const c = s.listAppend(list, { text: 'c' });
    expect([a.index, b.index, c.index]).toEqual([0, 1, 2]);
    expect(a.lastEventId).toBeLessThan(b.lastEventId);
    expect(seen.map((e) => e.eventType)).toEqual(['list_item_added', 'list_item_added', 'list_item_added']);
    expect(s.eventsAfter(list.sid, a.lastEventId).map((e) => e.event.item_data)).toEqual([
      { text: 'b' },
      { text: 'c' },
    ]);
    expect(list.lastEventId).toBe(c.lastEventId);
  });

  it('finds objects by SID or unique name, only of the asked type', () => {
    const s = store();
    const map = s.create('map', 'bot.conversations');
    expect(s.get('map', 'bot.conversations')).toBe(map);
    expect(s.get('map', map.sid)).toBe(map);
    expect(s.get('list', map.sid)).toBeUndefined();
    expect(() => s.create('map', 'bot.conversations')).toThrow(/already exists/);
  });

  it('describes maps with their items and emits added/updated/removed', () => {
    const s = store();
    const map = s.create('map', 'm');
    const events: string[] = [];
    s.onEvent((e) => events.push(`${e.eventType}:${String(e.event.item_key)}`));
    s.mapSet(map, 'k', { v: 1 });
    s.mapSet(map, 'k', { v: 2 });
    expect(s.descriptor(map, true)).toMatchObject({
      sid: map.sid,
      items: [{ key: 'k', data: { v: 2 }, revision: '1' }],
    });
    expect(s.mapRemove(map, 'k')).toBe(true);
    expect(s.mapRemove(map, 'k')).toBe(false);
    expect(events).toEqual(['map_item_added:k', 'map_item_updated:k', 'map_item_removed:k']);
  });
});
