import type twilio from 'twilio';
import type {
  CallInstance,
  CallListInstance,
  CallListInstanceCreateOptions,
} from 'twilio/lib/rest/api/v2010/account/call';
import type { CreateCallParams, ListCallsFilter, TwilioCall, TwilioCallsPort } from './twilio-calls-port';

/**
 * TwilioCallsPort on the official SDK client (the egress client: our
 * transport, our timeout, its retries off). Calls go to `accounts(sid)` so
 * subaccounts work with the main credentials.
 */
export class TwilioCallsAdapter implements TwilioCallsPort {
  private readonly lists = new Map<string, CallListInstance>();

  constructor(private readonly client: twilio.Twilio) {}

  private calls(accountSid: string): CallListInstance {
    let list = this.lists.get(accountSid);
    if (!list) {
      list = this.client.api.v2010.accounts(accountSid).calls;
      this.lists.set(accountSid, list);
    }
    return list;
  }

  async create(p: CreateCallParams): Promise<TwilioCall> {
    const opts: CallListInstanceCreateOptions = { to: p.to, from: p.from, twiml: p.twiml };
    if (p.record !== undefined) opts.record = p.record;
    if (p.recordingStatusCallback !== undefined) opts.recordingStatusCallback = p.recordingStatusCallback;
    if (p.machineDetection !== undefined) opts.machineDetection = p.machineDetection;
    if (p.statusCallback !== undefined) {
      opts.statusCallback = p.statusCallback;
      if (p.statusCallbackEvents !== undefined) opts.statusCallbackEvent = [...p.statusCallbackEvents];
    }
    if (p.timeoutSecs !== undefined) opts.timeout = p.timeoutSecs;
    if (p.timeLimitSecs !== undefined) opts.timeLimit = p.timeLimitSecs;
    return toCall(await this.calls(p.accountSid).create(opts));
  }

  async fetch(accountSid: string, callSid: string): Promise<TwilioCall> {
    return toCall(await this.calls(accountSid)(callSid).fetch());
  }

  async list(f: ListCallsFilter): Promise<TwilioCall[]> {
    const limit = f.limit ?? 50;
    const list = await this.calls(f.accountSid).list({
      ...(f.to !== undefined ? { to: f.to } : {}),
      ...(f.from !== undefined ? { from: f.from } : {}),
      ...(f.startTimeAfter !== undefined ? { startTimeAfter: f.startTimeAfter } : {}),
      limit,
      pageSize: Math.min(limit, 1000),
    });
    return list.map(toCall);
  }

  async end(accountSid: string, callSid: string): Promise<TwilioCall> {
    return toCall(await this.calls(accountSid)(callSid).update({ status: 'completed' }));
  }
}

function toCall(c: CallInstance): TwilioCall {
  return {
    sid: c.sid,
    accountSid: c.accountSid,
    to: c.to,
    from: c.from,
    status: c.status,
    direction: c.direction,
    dateCreated: c.dateCreated ?? null,
    startTime: c.startTime ?? null,
  };
}
