import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { MESSAGE_STATUSES } from './message';
import { faultRuleSchema } from './faults';
import type { MessageDirection, MessageStatus } from './message';
import type { SimClock } from './clock';
import type { FaultControls } from './fault-controls';
import type { SimulatorInspector } from './inspection';
import type { LifecycleState } from './lifecycle';
import type { Recording } from './recorder';
import type { WebhookKind } from './webhook-sender';

/**
 * The simulator's own HTTP endpoints under `/__sim/` (the same operations as
 * the in-process API), so the sandbox, the CLI and tests in other processes
 * can drive and inspect a running simulator. JSON in, JSON out. They are not
 * authenticated: the simulator binds to 127.0.0.1 by default.
 */
const MAX_BODY_BYTES = 1024 * 1024;

const inboundSchema = z
  .object({
    from: z.string().min(1),
    to: z.string().min(1),
    body: z.string().optional(),
    mediaUrls: z.array(z.string()).optional(),
    media: z.array(z.object({ url: z.string(), contentType: z.string() })).optional(),
    webhookUrl: z.string().optional(),
    fallbackUrl: z.string().optional(),
    accountSid: z.string().optional(),
    messagingServiceSid: z.string().optional(),
    geo: z
      .object({
        FromCity: z.string().optional(),
        FromState: z.string().optional(),
        FromZip: z.string().optional(),
        FromCountry: z.string().optional(),
        ToCity: z.string().optional(),
        ToState: z.string().optional(),
        ToZip: z.string().optional(),
        ToCountry: z.string().optional(),
      })
      .optional(),
    extraParams: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const optOutSchema = z.object({
  phone: z.string().min(1),
  scope: z.string().optional(),
  accountSid: z.string().optional(),
});
const outcomeSchema = z.object({
  to: z.string().min(1),
  status: z.enum(['delivered', 'undelivered', 'failed']),
  errorCode: z.number().int().optional(),
  probability: z.number().min(0).max(1).optional(),
});
const chaosSchema = z.object({
  duplicateProbability: z.number().min(0).max(1).optional(),
  outOfOrderProbability: z.number().min(0).max(1).optional(),
});
const statusSchema = z.object({
  status: z.enum(MESSAGE_STATUSES),
  errorCode: z.number().int().nullable().optional(),
});
const advanceSchema = z.object({ ms: z.number().min(0) });
const answerSchema = z.enum(['answered', 'no-answer', 'busy', 'failed']);
const incomingCallSchema = z
  .object({
    from: z.string().min(1),
    to: z.string().min(1),
    webhookUrl: z.string().optional(),
    statusCallback: z.string().optional(),
    statusCallbackEvents: z.array(z.enum(['initiated', 'ringing', 'answered', 'completed'])).optional(),
    accountSid: z.string().optional(),
    forwardedFrom: z.string().optional(),
    callerName: z.string().optional(),
    stirVerstat: z.string().optional(),
    geo: z.record(z.string(), z.string()).optional(),
    dial: answerSchema.optional(),
    talkSecs: z.number().min(0).optional(),
    voicemail: z
      .union([
        z.literal(false),
        z
          .object({
            durationSecs: z.number().min(0).optional(),
            transcript: z.string().optional(),
            digits: z.string().optional(),
          })
          .strict(),
      ])
      .optional(),
  })
  .strict();
const callOutcomeSchema = z
  .object({ to: z.string().optional(), answer: answerSchema, probability: z.number().min(0).max(1).optional() })
  .strict();

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** What the control API drives: the simulator, seen from here (no import back to it). */
export interface ControlTarget {
  readonly state: LifecycleState;
  readonly clock: SimClock;
  readonly faults: FaultControls;
  readonly inspect: SimulatorInspector;
  readonly optOuts: { add: (phone: string, scope?: string, accountSid?: string) => void; clear: () => void };
  sendInbound(input: z.infer<typeof inboundSchema>): Promise<unknown>;
  setStatus(sid: string, status: MessageStatus, errorCode?: number | null): void;
  advance(ms: number): Promise<void>;
  reset(): void;
  recording(): Recording;
  readonly voice: {
    call(input: z.infer<typeof incomingCallSchema>): Promise<unknown>;
    calls(filter?: { to?: string; from?: string; direction?: string }): unknown[];
    callView(sid: string): unknown;
    recordings(callSid?: string): unknown[];
    outcome(rule: z.infer<typeof callOutcomeSchema>): void;
    callbacks(chaos: z.infer<typeof chaosSchema>): void;
  };
}

export class ControlApi {
  constructor(private readonly sim: ControlTarget) {}

  handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      this.dispatch(req.method ?? 'GET', req.url ?? '/', raw).then(
        ({ status, body }) => send(res, status, body),
        (err: unknown) => {
          if (err instanceof HttpError) send(res, err.status, { error: err.message });
          else if (err instanceof z.ZodError) send(res, 400, { error: 'invalid request', issues: err.issues });
          else send(res, 500, { error: err instanceof Error ? err.message : 'internal error' });
        },
      );
    });
  }

  private async dispatch(method: string, url: string, raw: string): Promise<{ status: number; body: unknown }> {
    const parsed = new URL(url, 'http://sim.local');
    const path = parsed.pathname.replace(/\/+$/, '');
    const q = parsed.searchParams;
    const json = (): unknown => {
      if (raw.trim() === '') return {};
      try {
        return JSON.parse(raw);
      } catch {
        throw new HttpError(400, 'body must be JSON');
      }
    };
    const ok = (body: unknown) => ({ status: 200, body });
    const sim = this.sim;
    const route = `${method} ${path}`;
    let m: RegExpExecArray | null;

    switch (route) {
      case 'GET /__sim/health':
        return ok({ status: 'ok', state: sim.state });
      case 'GET /__sim/messages':
        return ok({
          messages: sim.inspect.messages({
            ...(q.get('to') ? { to: q.get('to') ?? '' } : {}),
            ...(q.get('from') ? { from: q.get('from') ?? '' } : {}),
            ...(q.get('direction') ? { direction: q.get('direction') as MessageDirection } : {}),
            ...(q.get('status') ? { status: q.get('status') as MessageStatus } : {}),
          }),
        });
      case 'GET /__sim/stats':
        return ok(sim.inspect.stats());
      case 'GET /__sim/duplicates':
        return ok({ count: sim.inspect.duplicateCount(), duplicates: sim.inspect.duplicates() });
      case 'GET /__sim/requests':
        return ok({ requests: sim.inspect.requests() });
      case 'GET /__sim/webhooks':
        return ok({
          webhooks: sim.inspect.webhooks({
            ...(q.get('kind') ? { kind: q.get('kind') as WebhookKind } : {}),
            ...(q.get('messageSid') ? { messageSid: q.get('messageSid') ?? '' } : {}),
          }),
        });
      case 'GET /__sim/opt-outs':
        return ok({ optOuts: sim.inspect.optOuts() });
      case 'POST /__sim/opt-outs': {
        const b = optOutSchema.parse(json());
        sim.optOuts.add(b.phone, b.scope, b.accountSid);
        return ok({ optOuts: sim.inspect.optOuts() });
      }
      case 'DELETE /__sim/opt-outs':
        sim.optOuts.clear();
        return ok({ optOuts: [] });
      case 'POST /__sim/inbound': {
        const b = inboundSchema.parse(json());
        return ok(await sim.sendInbound(b));
      }
      case 'GET /__sim/faults':
        return ok({ faults: sim.faults.list() });
      case 'POST /__sim/faults':
        return { status: 201, body: { id: sim.faults.add(faultRuleSchema.parse(json())) } };
      case 'DELETE /__sim/faults':
        sim.faults.clear();
        return ok({ faults: [] });
      case 'POST /__sim/outcomes': {
        const b = outcomeSchema.parse(json());
        sim.faults.outcome(b.to, { status: b.status, errorCode: b.errorCode, probability: b.probability });
        return ok({ ok: true });
      }
      case 'POST /__sim/callbacks':
        sim.faults.callbacks(chaosSchema.parse(json()));
        return ok({ ok: true });
      case 'POST /__sim/reset':
        sim.reset();
        return ok({ ok: true });
      case 'POST /__sim/advance':
        await sim.advance(advanceSchema.parse(json()).ms);
        return ok({ now: new Date(sim.clock.now()).toISOString() });
      case 'GET /__sim/recording':
        return ok(sim.recording());
      case 'POST /__sim/calls/incoming':
        return ok(await sim.voice.call(incomingCallSchema.parse(json())));
      case 'GET /__sim/calls':
        return ok({
          calls: sim.voice.calls({
            ...(q.get('to') ? { to: q.get('to') ?? '' } : {}),
            ...(q.get('from') ? { from: q.get('from') ?? '' } : {}),
            ...(q.get('direction') ? { direction: q.get('direction') ?? '' } : {}),
          }),
        });
      case 'GET /__sim/recordings':
        return ok({ recordings: sim.voice.recordings(q.get('callSid') ?? undefined) });
      case 'POST /__sim/calls/outcomes':
        sim.voice.outcome(callOutcomeSchema.parse(json()));
        return ok({ ok: true });
      case 'POST /__sim/calls/callbacks':
        sim.voice.callbacks(chaosSchema.parse(json()));
        return ok({ ok: true });
    }
    if (method === 'GET' && (m = /^\/__sim\/calls\/(CA[0-9a-fA-F]+)$/.exec(path))) {
      const view = sim.voice.callView(m[1] ?? '');
      if (!view) throw new HttpError(404, 'no such call');
      return ok(view);
    }
    if (method === 'GET' && (m = /^\/__sim\/messages\/([A-Za-z0-9]+)$/.exec(path))) {
      const view = sim.inspect.message(m[1] ?? '');
      if (!view) throw new HttpError(404, 'no such message');
      return ok(view);
    }
    if (method === 'POST' && (m = /^\/__sim\/messages\/([A-Za-z0-9]+)\/status$/.exec(path))) {
      const b = statusSchema.parse(json());
      if (!sim.inspect.message(m[1] ?? '')) throw new HttpError(404, 'no such message');
      sim.setStatus(m[1] ?? '', b.status, b.errorCode ?? null);
      return ok(sim.inspect.message(m[1] ?? ''));
    }
    if (method === 'DELETE' && (m = /^\/__sim\/faults\/([\w-]+)$/.exec(path))) {
      if (!sim.faults.remove(m[1] ?? '')) throw new HttpError(404, 'no such fault');
      return ok({ faults: sim.faults.list() });
    }
    throw new HttpError(404, `no simulator endpoint ${method} ${path}`);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
