import type { IngressEgressServer } from '../../../src/server';
import type { TwilioEgressHandler } from '../../../src/twilio/egress/twilio-egress-handler';
import type { TwilioMessagesPort } from '../../../src/twilio/egress/twilio-messages-port';
import { classifyTwilioError } from '../../../src/twilio/rest/error-map';
import type { ConsumedRecord } from '../../helpers/kafka-consumer';
import { egressConsumerOf, type EgressEnv } from './egress-env';

/** One call the service made to the Messages API, as the service saw it. */
export interface TracedCall {
  op: 'create' | 'list';
  to: string | undefined;
  body: string | undefined;
  startedAt: number;
  endedAt?: number;
  /** The SID created, `n found` for a list, or the failure's error-map row (`ECONNABORTED`, `HTTP 500`, …). */
  result?: string;
}

/**
 * Records every create and list call of a built server's Twilio egress, with
 * its timing and result, by wrapping the real port (every call still goes to
 * the simulator), and every circuit transition. `explain(to)` then tells the
 * story of one recipient: what the service called and when, what the simulator
 * received and answered, what the send ledger holds and what the outcome said,
 * so a duplicate send found by a test explains itself.
 */
export class SendTrace {
  readonly calls: TracedCall[] = [];
  readonly circuit: { at: number; state: string }[] = [];

  constructor(
    private readonly env: EgressEnv,
    private readonly server: IngressEgressServer,
  ) {
    const handler = server.connectors.get('twilio')!.egress as TwilioEgressHandler;
    const real = handler.deps.twilio;
    const calls = this.calls;
    const traced = async <T>(call: TracedCall, run: () => Promise<T>, describe: (r: T) => string): Promise<T> => {
      calls.push(call);
      try {
        const r = await run();
        call.result = describe(r);
        return r;
      } catch (err) {
        call.result = `error ${String(classifyTwilioError(err).row)}`;
        throw err;
      } finally {
        call.endedAt = Date.now();
      }
    };
    const port: TwilioMessagesPort = {
      create: (p) =>
        traced(
          { op: 'create', to: p.to, body: p.body, startedAt: Date.now() },
          () => real.create(p),
          (m) => m.sid,
        ),
      list: (f) =>
        traced(
          { op: 'list', to: f.to, body: undefined, startedAt: Date.now() },
          () => real.list(f),
          (ms) => `${ms.length} found${f.dateSentAfter ? ' (DateSent>)' : ''}`,
        ),
      fetch: (a, s) => real.fetch(a, s),
      cancel: (a, s) => real.cancel(a, s),
    };
    handler.deps.twilio = port;
    handler.deps.circuits.subscribe((_account, state) => this.circuit.push({ at: Date.now(), state }));
  }

  /** Everything known about the sends to `to` (one request per recipient in these tests). */
  async explain(to: string, outcomes: readonly { type: string; causationId?: string; data: unknown }[]) {
    const { env, server } = this;
    const t = (ms: number) => new Date(ms).toISOString().slice(11, 23);
    const lines: string[] = [`— sends to ${to} —`];
    for (const c of this.calls.filter((x) => x.to === to)) {
      lines.push(
        `service ${c.op} ${t(c.startedAt)} → ${c.endedAt ? t(c.endedAt) : 'still running'}: ${c.result ?? ''}`,
      );
    }
    for (const r of env.sim.inspect.requests().filter((x) => x.to === to)) {
      lines.push(
        `simulator ${r.operation} at ${t(r.at.getTime())}: status ${r.status ?? 'none'}` +
          `${r.fault ? ` fault ${r.fault}` : ''}${r.sid ? ` sid ${r.sid}` : ''}`,
      );
    }
    for (const m of env.sim.inspect.sentTo(to)) {
      lines.push(`simulator holds ${m.sid} created ${t(m.dateCreated.getTime())} body ${JSON.stringify(m.body)}`);
    }
    const ledger = await env.read(env.ledgerTopic, await env.count(env.ledgerTopic));
    for (const r of ledger.filter((x) => ledgerEntryOf(x)?.recipient === to)) {
      const e = ledgerEntryOf(r)!;
      lines.push(
        `ledger @${r.partition}/${r.offset} ${e.state} key ${e.key} owner ${e.owner} attemptAt ${t(e.attemptAt)}` +
          ` updatedAt ${t(e.updatedAt)} attempts ${e.attempts ?? '-'}${e.messageSid ? ` sid ${e.messageSid}` : ''}`,
      );
    }
    for (const o of outcomes.filter((x) => (x.data as { to?: string }).to === to)) {
      lines.push(`outcome ${o.type} for ${o.causationId}: ${JSON.stringify(o.data)}`);
    }
    const stats = egressConsumerOf(server).stats();
    lines.push(
      `consumer joins ${stats.joins} retries ${stats.retries} heartbeats ${stats.heartbeats}; circuit ` +
        (this.circuit.map((c) => `${c.state}@${t(c.at)}`).join(' ') || 'always closed'),
    );
    return lines.join('\n');
  }
}

interface LedgerRecord {
  key: string;
  state: string;
  recipient: string;
  owner: string;
  attemptAt: number;
  updatedAt: number;
  attempts?: number;
  messageSid?: string;
}

function ledgerEntryOf(r: ConsumedRecord): LedgerRecord | undefined {
  try {
    return JSON.parse(r.value!.toString('utf8')) as LedgerRecord;
  } catch {
    return undefined;
  }
}
