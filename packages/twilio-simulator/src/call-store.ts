import type { SimCall } from './call';
import type { SimRecording } from './call-recording';

/**
 * Calls and recordings the simulator knows, in memory. Lists are newest
 * first (creation order), as Twilio's are; old entries are dropped past the
 * cap like messages.
 */
export interface CallFilter {
  accountSid: string;
  to?: string | undefined;
  from?: string | undefined;
  status?: string | undefined;
  parentCallSid?: string | undefined;
  /** Inclusive bounds on start_time (ms); calls not started yet never match. */
  startAfter?: number | undefined;
  startBefore?: number | undefined;
}

export class CallStore {
  private readonly calls = new Map<string, SimCall>();
  private readonly recordings = new Map<string, SimRecording>();
  private seq = 0;

  constructor(private readonly max: number) {}

  nextSeq(): number {
    return this.seq++;
  }

  addCall(c: SimCall): void {
    this.calls.set(c.sid, c);
    if (this.calls.size > this.max) {
      const oldest = this.calls.keys().next().value;
      if (oldest !== undefined) this.calls.delete(oldest);
    }
  }

  call(sid: string): SimCall | undefined {
    return this.calls.get(sid);
  }

  getCall(accountSid: string, sid: string): SimCall | undefined {
    const c = this.calls.get(sid);
    return c && c.accountSid === accountSid ? c : undefined;
  }

  allCalls(): SimCall[] {
    return [...this.calls.values()];
  }

  listCalls(f: CallFilter): SimCall[] {
    const out: SimCall[] = [];
    for (const c of this.calls.values()) {
      if (c.accountSid !== f.accountSid) continue;
      if (f.to !== undefined && c.to !== f.to) continue;
      if (f.from !== undefined && c.from !== f.from) continue;
      if (f.status !== undefined && c.status !== f.status) continue;
      if (f.parentCallSid !== undefined && c.parentCallSid !== f.parentCallSid) continue;
      if (f.startAfter !== undefined || f.startBefore !== undefined) {
        if (c.startTime === null) continue;
        if (f.startAfter !== undefined && c.startTime < f.startAfter) continue;
        if (f.startBefore !== undefined && c.startTime > f.startBefore) continue;
      }
      out.push(c);
    }
    return out.sort((a, b) => b.seq - a.seq);
  }

  addRecording(r: SimRecording): void {
    this.recordings.set(r.sid, r);
    if (this.recordings.size > this.max) {
      const oldest = this.recordings.keys().next().value;
      if (oldest !== undefined) this.recordings.delete(oldest);
    }
  }

  getRecording(accountSid: string, sid: string): SimRecording | undefined {
    const r = this.recordings.get(sid);
    return r && r.accountSid === accountSid ? r : undefined;
  }

  listRecordings(accountSid: string, callSid?: string): SimRecording[] {
    const out: SimRecording[] = [];
    for (const r of this.recordings.values()) {
      if (r.accountSid !== accountSid) continue;
      if (callSid !== undefined && r.callSid !== callSid) continue;
      out.push(r);
    }
    return out.sort((a, b) => b.seq - a.seq);
  }

  allRecordings(): SimRecording[] {
    return [...this.recordings.values()];
  }

  clear(): void {
    this.calls.clear();
    this.recordings.clear();
  }
}
