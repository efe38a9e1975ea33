import { parseArgs } from 'node:util';
import { loadConfig } from '../../config';
import { EgressPriority } from '../../envelope';
import { createEventPublisher } from '../../kafka/create-event-publisher';
import { createLogger } from '../../observability';
import { API_OPTIONS_HELP, ApiClient } from '../api-client';
import { buildEgressRequest } from '../egress-request';
import { loadEnv } from '../env-file';
import { CliError, type CliIo } from '../io';

export const SEND_HELP = `Usage: ingress-egress send --to E164 (--body TEXT | --template NAME [--var k=v]...) [options]

Publishes one sms.outbound.requested event to the egress topic (KAFKA_TOPIC_EGRESS)
and prints its id. The running service sends it; its outcome appears on
KAFKA_TOPIC_OUTCOMES with causationId = that id. With --api it asks a running
service instead (POST /api/sms) and prints the API's answer ({requestId}, or
{requestId, outcome} with --wait).

Options:
  --to E164                 recipient (required)
  --body TEXT               message text
  --template NAME           a registered template (see EGRESS_TEMPLATES_FILE)
  --var key=value           a template variable (repeatable)
  --from E164               sender number (default TWILIO_PHONE_NUMBER)
  --messaging-service MG…   messaging service instead of --from
  --media URL               media URL for MMS (repeatable)
  --send-at ISO             schedule (needs a messaging service)
  --account AC…             tenant account (default TWILIO_ACCOUNT_SID)
  --source NAME             connector that must deliver it (default twilio; not with --api)
  --priority LANE           urgent, normal or bulk
  --env-file PATH           .env file to read
${API_OPTIONS_HELP}
  --idempotency-key KEY     with --api: a retry with the same key is the same request (one SMS)
  --wait MS                 with --api: wait up to MS (≤ 10000) for the outcome`;

export async function sendCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      to: { type: 'string' },
      body: { type: 'string' },
      template: { type: 'string' },
      var: { type: 'string', multiple: true },
      from: { type: 'string' },
      'messaging-service': { type: 'string' },
      media: { type: 'string', multiple: true },
      'send-at': { type: 'string' },
      account: { type: 'string' },
      source: { type: 'string' },
      priority: { type: 'string' },
      'env-file': { type: 'string' },
      api: { type: 'string' },
      token: { type: 'string' },
      'idempotency-key': { type: 'string' },
      wait: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(`${SEND_HELP}\n`);
    return 0;
  }
  if (!values.to) throw new CliError('--to is required (see --help)', 2);
  if (values.body === undefined && values.template === undefined && !values.media?.length) {
    throw new CliError('give --body, --template or --media (see --help)', 2);
  }
  const variables: Record<string, string> = {};
  for (const v of values.var ?? []) {
    const i = v.indexOf('=');
    if (i <= 0) throw new CliError(`--var expects key=value, got '${v}'`, 2);
    variables[v.slice(0, i)] = v.slice(i + 1);
  }
  const lane = values.priority === undefined ? undefined : EgressPriority.safeParse(values.priority);
  if (lane !== undefined && !lane.success) throw new CliError('--priority must be urgent, normal or bulk', 2);
  const priority = lane?.data;
  const content = {
    ...(values.body !== undefined ? { body: values.body } : {}),
    ...(values.template !== undefined ? { template: { name: values.template, variables } } : {}),
    ...(values.from !== undefined ? { from: values.from } : {}),
    ...(values['messaging-service'] !== undefined ? { messagingServiceSid: values['messaging-service'] } : {}),
    ...(values.media !== undefined ? { mediaUrls: values.media } : {}),
    ...(values['send-at'] !== undefined ? { sendAt: values['send-at'] } : {}),
    ...(priority !== undefined ? { priority } : {}),
  };
  if (values.api !== undefined) {
    if (values.source !== undefined)
      throw new CliError('--source cannot be used with --api (the API sends via twilio)', 2);
    const api = ApiClient.from(io, values.api, values.token);
    const answer = await api.call<unknown>('POST', '/api/sms', {
      body: { to: values.to, ...content, ...(values.account !== undefined ? { accountSid: values.account } : {}) },
      headers: values['idempotency-key'] !== undefined ? { 'idempotency-key': values['idempotency-key'] } : {},
      query: { wait: values.wait },
    });
    io.stdout.write(`${JSON.stringify(answer.body)}\n`);
    return 0;
  }
  if (values['idempotency-key'] !== undefined || values.wait !== undefined || values.token !== undefined) {
    throw new CliError('--idempotency-key, --wait and --token need --api', 2);
  }
  const env = loadEnv(io, values['env-file']);
  // Publishing needs only Kafka: Twilio credentials belong to the running service.
  const config = loadConfig({ ...env, TWILIO_ENABLED: 'false' });
  const accountSid = values.account ?? env.TWILIO_ACCOUNT_SID;
  if (!accountSid) throw new CliError('--account or TWILIO_ACCOUNT_SID is required', 2);
  const request = buildEgressRequest({
    accountSid,
    to: values.to,
    ...content,
    ...(values.source !== undefined ? { source: values.source } : {}),
  });
  const publisher = createEventPublisher(config, { logger: createLogger({ level: 'warn' }) });
  await publisher.start();
  try {
    const where = await publisher.publish(request);
    io.stdout.write(
      `${JSON.stringify({ id: request.id, topic: where.topic, partition: where.partition, offset: where.offset })}\n`,
    );
  } finally {
    await publisher.stop();
  }
  return 0;
}
