import type { SeededRng } from '../rng';

/**
 * The Sync objects behind a Conversations session (documents, lists, maps),
 * with the event log the real service keeps: every change gets an event id,
 * and a subscriber that comes back with `last_event_id` is replayed what it
 * missed. Event ids are one counter for the whole store, so they only grow.
 */
export type SyncObjectType = 'document' | 'list' | 'map';

export interface SyncItem {
  key: string;
  /** List items only. */
  index?: number;
  data: unknown;
  revision: number;
  lastEventId: number;
  dateUpdated: string;
}

export interface SyncEvent {
  id: number;
  objectSid: string;
  objectType: SyncObjectType;
  /** e.g. `list_item_added`, `map_item_removed`, `document_updated`. */
  eventType: string;
  /** The event body as the SDK reads it (without `type`, which the SDK sets from `event_type`). */
  event: Record<string, unknown>;
}

export interface SyncObject {
  sid: string;
  type: SyncObjectType;
  uniqueName: string | undefined;
  revision: number;
  lastEventId: number;
  dateUpdated: string;
  /** Documents only. */
  data: unknown;
  /** Lists and maps; lists key by the decimal index. */
  items: Map<string, SyncItem>;
  nextIndex: number;
  events: SyncEvent[];
}

const PREFIX: Record<SyncObjectType, string> = { document: 'ET', list: 'ES', map: 'MP' };
const PATH: Record<SyncObjectType, string> = { document: 'Documents', list: 'Lists', map: 'Maps' };

export const CDS_BASE = 'https://cds.us1.twilio.com';

export class SyncStore {
  private readonly bySid = new Map<string, SyncObject>();
  private readonly byName = new Map<string, SyncObject>();
  private eventCounter = 0;
  private readonly listeners = new Set<(event: SyncEvent) => void>();

  constructor(
    private readonly rng: SeededRng,
    private readonly now: () => number,
    private readonly maxEventsPerObject = 50_000,
  ) {}

  onEvent(listener: (event: SyncEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  create(type: SyncObjectType, uniqueName?: string, data?: unknown): SyncObject {
    if (uniqueName !== undefined && this.byName.has(`${type}:${uniqueName}`)) {
      throw new Error(`sync ${type} ${uniqueName} already exists`);
    }
    const obj: SyncObject = {
      sid: this.rng.sid(PREFIX[type]),
      type,
      uniqueName,
      revision: 0,
      lastEventId: this.eventCounter,
      dateUpdated: this.iso(),
      data: type === 'document' ? (data ?? {}) : undefined,
      items: new Map(),
      nextIndex: 0,
      events: [],
    };
    this.bySid.set(obj.sid, obj);
    if (uniqueName !== undefined) this.byName.set(`${type}:${uniqueName}`, obj);
    return obj;
  }

  /** By SID or unique name. */
  get(type: SyncObjectType, id: string): SyncObject | undefined {
    const obj = this.bySid.get(id) ?? this.byName.get(`${type}:${id}`);
    return obj?.type === type ? obj : undefined;
  }

  getBySid(sid: string): SyncObject | undefined {
    return this.bySid.get(sid);
  }

  updateDocument(doc: SyncObject, data: unknown): void {
    doc.data = data;
    doc.revision++;
    this.emit(doc, 'document_updated', {
      document_sid: doc.sid,
      document_revision: String(doc.revision),
      document_data: data,
    });
  }

  listAppend(list: SyncObject, data: unknown): SyncItem {
    const index = list.nextIndex++;
    const item: SyncItem = {
      key: String(index),
      index,
      data,
      revision: 0,
      lastEventId: 0,
      dateUpdated: this.iso(),
    };
    list.items.set(item.key, item);
    list.revision++;
    const id = this.emit(list, 'list_item_added', {
      list_sid: list.sid,
      item_index: index,
      item_url: this.itemUrl(list, item.key),
      item_revision: String(item.revision),
      item_data: data,
      list_revision: String(list.revision),
    });
    item.lastEventId = id;
    return item;
  }

  mapSet(map: SyncObject, key: string, data: unknown): SyncItem {
    const existing = map.items.get(key);
    const item: SyncItem = {
      key,
      data,
      revision: existing ? existing.revision + 1 : 0,
      lastEventId: 0,
      dateUpdated: this.iso(),
    };
    map.items.set(key, item);
    map.revision++;
    item.lastEventId = this.emit(map, existing ? 'map_item_updated' : 'map_item_added', {
      map_sid: map.sid,
      item_key: key,
      item_url: this.itemUrl(map, key),
      item_revision: String(item.revision),
      item_data: data,
      map_revision: String(map.revision),
    });
    return item;
  }

  mapRemove(map: SyncObject, key: string): boolean {
    const existing = map.items.get(key);
    if (!existing) return false;
    map.items.delete(key);
    map.revision++;
    this.emit(map, 'map_item_removed', {
      map_sid: map.sid,
      item_key: key,
      item_data: existing.data,
      map_revision: String(map.revision),
    });
    return true;
  }

  /** Events of `sid` after `lastEventId`, oldest first (what a resubscribing client missed). */
  eventsAfter(sid: string, lastEventId: number): SyncEvent[] {
    return this.bySid.get(sid)?.events.filter((e) => e.id > lastEventId) ?? [];
  }

  /** The descriptor the SDK reads when it opens an object (`GET /v3/Lists/{id}`). */
  descriptor(obj: SyncObject, includeItems = false): Record<string, unknown> {
    const url = this.objectUrl(obj);
    const base: Record<string, unknown> = {
      sid: obj.sid,
      unique_name: obj.uniqueName ?? null,
      url,
      revision: String(obj.revision),
      last_event_id: obj.lastEventId,
      date_updated: obj.dateUpdated,
      date_expires: null,
    };
    if (obj.type === 'document') return { ...base, data: obj.data };
    const links: Record<string, string> = { items: `${url}/Items` };
    if (obj.type === 'list') links.context = `${url}/Context`;
    const out: Record<string, unknown> = { ...base, links };
    if (includeItems) out.items = [...obj.items.values()].map((i) => this.itemDescriptor(obj, i));
    return out;
  }

  itemDescriptor(obj: SyncObject, item: SyncItem): Record<string, unknown> {
    return {
      ...(obj.type === 'list' ? { index: item.index } : { key: item.key }),
      url: this.itemUrl(obj, item.key),
      revision: String(item.revision),
      last_event_id: item.lastEventId,
      date_updated: item.dateUpdated,
      date_expires: null,
      data: item.data,
    };
  }

  objectUrl(obj: SyncObject): string {
    return `${CDS_BASE}/v3/${PATH[obj.type]}/${obj.sid}`;
  }

  private itemUrl(obj: SyncObject, key: string): string {
    return `${this.objectUrl(obj)}/Items/${encodeURIComponent(key)}`;
  }

  private emit(obj: SyncObject, eventType: string, body: Record<string, unknown>): number {
    const id = ++this.eventCounter;
    const dateCreated = this.iso();
    obj.lastEventId = id;
    obj.dateUpdated = dateCreated;
    const event: SyncEvent = {
      id,
      objectSid: obj.sid,
      objectType: obj.type,
      eventType,
      event: { id, date_created: dateCreated, ...body },
    };
    obj.events.push(event);
    if (obj.events.length > this.maxEventsPerObject) obj.events.splice(0, obj.events.length - this.maxEventsPerObject);
    for (const l of this.listeners) l(event);
    return id;
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}
