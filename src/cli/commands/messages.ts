import { parseArgs } from 'node:util';
import { loadConfig } from '../../config';
import { createMessagesApi, type TwilioMessage } from '../../twilio/egress';
import { redactPhone } from '../../observability';
import { API_OPTIONS_HELP, ApiClient } from '../api-client';
import { loadEnv } from '../env-file';
import { CliError, type CliIo } from '../io';

export const MESSAGES_HELP = `Usage: ingress-egress messages get SM…
       ingress-egress messages list [--to E164] [--from E164] [--sent-after ISO] [--sent-before ISO] [--limit N]

Looks messages up in Twilio (TWILIO_API_BASE_URL) with the service's credentials, or
with --api through a running service (GET /api/messages…, a token with the read scope).
Numbers are masked unless --show-numbers is given. Options: --json, --env-file PATH,
${API_OPTIONS_HELP}`;

export async function messagesCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.stdout.write(`${MESSAGES_HELP}\n`);
    return sub === undefined ? 2 : 0;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      to: { type: 'string' },
      from: { type: 'string' },
      'sent-after': { type: 'string' },
      'sent-before': { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      'show-numbers': { type: 'boolean' },
      'env-file': { type: 'string' },
      api: { type: 'string' },
      token: { type: 'string' },
    },
  });
  const api = values.api !== undefined ? viaApi(ApiClient.from(io, values.api, values.token)) : undefined;
  const show = (m: TwilioMessage) =>
    values['show-numbers'] ? m : { ...m, to: redactPhone(m.to), from: m.from && redactPhone(m.from) };
  let messages: TwilioMessage[];
  if (sub === 'get') {
    const sid = positionals[0];
    if (!sid) throw new CliError('messages get needs a message SID', 2);
    messages = [await (api ?? direct(io, values['env-file'])).lookup(sid)];
  } else if (sub === 'list') {
    const date = (v: string | undefined, name: string) => {
      if (v === undefined) return undefined;
      const d = new Date(v);
      if (Number.isNaN(d.getTime())) throw new CliError(`${name} must be an ISO date`, 2);
      return d;
    };
    messages = await (api ?? direct(io, values['env-file'])).list({
      to: values.to,
      from: values.from,
      dateSentAfter: date(values['sent-after'], '--sent-after'),
      dateSentBefore: date(values['sent-before'], '--sent-before'),
      limit: values.limit === undefined ? undefined : Number(values.limit),
    });
  } else {
    throw new CliError(`unknown messages command '${sub}' (get or list)`, 2);
  }
  const shown = messages.map(show);
  if (values.json) io.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  else
    for (const m of shown)
      io.stdout.write(
        `${m.sid} ${m.status.padEnd(11)} to ${m.to} segments=${m.numSegments} ${m.dateCreated?.toISOString() ?? ''}\n`,
      );
  return 0;
}

type Lookups = Pick<ReturnType<typeof createMessagesApi>, 'lookup' | 'list'>;

function direct(io: CliIo, envFile: string | undefined): Lookups {
  const config = loadConfig(loadEnv(io, envFile));
  if (!config.twilio.account) {
    throw new CliError('looking up messages needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or --api URL)', 2);
  }
  return createMessagesApi(config, config.twilio.account);
}

interface MessageJson extends Omit<TwilioMessage, 'dateCreated' | 'dateSent'> {
  dateCreated: string | null;
  dateSent: string | null;
}

function fromJson(m: MessageJson): TwilioMessage {
  return {
    ...m,
    dateCreated: m.dateCreated === null ? null : new Date(m.dateCreated),
    dateSent: m.dateSent === null ? null : new Date(m.dateSent),
  };
}

/** The same look-ups through GET /api/messages/{sid} and GET /api/messages. */
function viaApi(client: ApiClient): Lookups {
  return {
    lookup: async (sid) =>
      fromJson((await client.call<MessageJson>('GET', `/api/messages/${encodeURIComponent(sid)}`)).body),
    list: async (f = {}) => {
      const { body } = await client.call<{ messages: MessageJson[] }>('GET', '/api/messages', {
        query: {
          to: f.to,
          from: f.from,
          dateSentAfter: f.dateSentAfter?.toISOString(),
          dateSentBefore: f.dateSentBefore?.toISOString(),
          limit: f.limit === undefined ? undefined : String(f.limit),
        },
      });
      return body.messages.map(fromJson);
    },
  };
}
