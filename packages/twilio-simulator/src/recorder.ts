import { readFileSync, writeFileSync } from 'node:fs';
import { SimulatorError } from './simulator-error';

/**
 * Record/replay. Recording keeps every REST exchange and every webhook the
 * simulator sent as `{interactions: [{request, response, timestamp}]}`; never
 * a password (only the Basic-auth user name). Replay answers REST requests from
 * a recording: each request takes the first unused interaction with the same
 * method, path, query, form and user, so a replay gives back byte-identical
 * answers in the recorded order.
 */
export type FormParams = Record<string, string | string[]>;

export interface RecordedRequest {
  method: string;
  /** Path and query, as requested. */
  path: string;
  /** Basic-auth user name (account or API key SID); the secret is never recorded. */
  username?: string;
  form?: FormParams;
  /** Webhooks only: the URL (with connection overrides) and the headers sent. */
  url?: string;
  headers?: Record<string, string>;
}

export interface RecordedResponse {
  /** HTTP status; null when the connection was reset or left hanging. */
  status: number | null;
  headers?: Record<string, string>;
  body?: unknown;
  /** `reset` or `hang` when no response was sent; webhook attempts when kind is webhook. */
  outcome?: 'reset' | 'hang';
  attempts?: { status: number | null; error: string | null }[];
}

export interface RecordedInteraction {
  kind: 'rest' | 'webhook';
  request: RecordedRequest;
  response: RecordedResponse;
  /** Simulated time, ISO-8601. */
  timestamp: string;
}

export interface Recording {
  interactions: RecordedInteraction[];
}

export class Recorder {
  private readonly interactions: RecordedInteraction[] = [];

  constructor(public enabled: boolean) {}

  push(i: RecordedInteraction): void {
    if (this.enabled) this.interactions.push(i);
  }

  toJSON(): Recording {
    return { interactions: structuredClone(this.interactions) };
  }

  save(path: string): void {
    writeFileSync(path, `${JSON.stringify(this.toJSON(), null, 2)}\n`);
  }

  clear(): void {
    this.interactions.length = 0;
  }

  get size(): number {
    return this.interactions.length;
  }
}

export function loadRecording(source: Recording | string): Recording {
  const raw: unknown = typeof source === 'string' ? JSON.parse(readFileSync(source, 'utf8')) : source;
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as { interactions?: unknown }).interactions)) {
    throw new SimulatorError('IE_CONFIG_INVALID', 'A simulator recording must be {"interactions": [...]}');
  }
  return raw as Recording;
}

/** The identity of a REST request for replay matching. */
export function requestKey(r: RecordedRequest): string {
  const form = Object.entries(r.form ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([r.method.toUpperCase(), r.path, r.username ?? '', form]);
}

export interface ReplayMiss {
  method: string;
  path: string;
}

export class ReplayBook {
  private readonly queues = new Map<string, RecordedInteraction[]>();
  readonly misses: ReplayMiss[] = [];
  private served = 0;

  constructor(recording: Recording) {
    for (const i of recording.interactions) {
      if (i.kind !== 'rest') continue;
      const k = requestKey(i.request);
      const q = this.queues.get(k);
      if (q) q.push(i);
      else this.queues.set(k, [i]);
    }
  }

  take(request: RecordedRequest): RecordedInteraction | undefined {
    const hit = this.queues.get(requestKey(request))?.shift();
    if (hit) this.served += 1;
    else this.misses.push({ method: request.method, path: request.path });
    return hit;
  }

  get remaining(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  get servedCount(): number {
    return this.served;
  }
}
