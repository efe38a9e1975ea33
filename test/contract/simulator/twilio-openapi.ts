import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Validators built from Twilio's own OpenAPI description of the 2010-04-01
 * API (test/fixtures/twilio-oai). Twilio's custom formats are registered with
 * the meaning Twilio gives them. Two strict variants add what the spec leaves
 * implicit: every property of the resource is present and nothing else is, so
 * the simulator is held to "shaped exactly as Twilio's".
 */
type Json = Record<string, unknown>;

const SPEC_PATH = path.join(__dirname, '..', '..', 'fixtures', 'twilio-oai', 'twilio_api_v2010.json');
export const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as {
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json> };
};

const MESSAGES = '/2010-04-01/Accounts/{AccountSid}/Messages.json';
const MESSAGE = '/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json';

const RFC_2822 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/;

function buildAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // E.164, short code, alphanumeric sender ID or channel address (whatsapp:+…), as Twilio uses the format.
  ajv.addFormat('phone-number', /^(\+[1-9]\d{1,14}|\d{3,8}|(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}|[a-z]+:\S+)$/);
  ajv.addFormat('date-time-rfc-2822', (s: string) => RFC_2822.test(s) && Number.isFinite(Date.parse(s)));
  ajv.addFormat('currency', /^[A-Za-z]{3}$/);
  // Applies to objects (subresource_uris); Ajv checks formats on strings only, so the tests check it by hand.
  ajv.addFormat('uri-map', () => true);
  // Twilio's list envelopes declare format "uri" but carry relative URIs (/2010-04-01/…), in the
  // spec's own examples too: the format means a URI reference here.
  ajv.addFormat('uri', (s: string) => /^(\/|https?:\/\/)\S*$/.test(s));
  ajv.addSchema({ $id: 'twilio-api', components: spec.components });
  return ajv;
}

/** Points the spec's local refs at the registered components. */
function resolveRefs<T>(schema: T): T {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"twilio-api#/components/')) as T;
}

function strict(schema: Json): Json {
  const properties = schema.properties as Json;
  return { ...schema, required: Object.keys(properties), additionalProperties: false };
}

function responseSchema(route: string, method: string, status: string): Json {
  const op = spec.paths[route]?.[method] as Json;
  const content = (op.responses as Record<string, Json>)[status]?.content as Record<string, Json>;
  return content['application/json']?.schema as Json;
}

const ajv = buildAjv();
const messageSchema = spec.components.schemas['api.v2010.account.message'] as Json;
const listSchema = responseSchema(MESSAGES, 'get', '200');

const CALLS = '/2010-04-01/Accounts/{AccountSid}/Calls.json';
const CALL = '/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json';
const CALL_RECORDINGS = '/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Recordings.json';
const RECORDINGS = '/2010-04-01/Accounts/{AccountSid}/Recordings.json';
const RECORDING = '/2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json';

const callSchema = spec.components.schemas['api.v2010.account.call'] as Json;
/**
 * `encryption_details` is declared `{nullable: true}` with no type (any value, null included):
 * Ajv refuses `nullable` without `type`, so it is dropped there, which keeps the meaning.
 */
function untypedNullable(schema: Json): Json {
  const properties: Json = {};
  for (const [k, v] of Object.entries(schema.properties as Record<string, Json>)) {
    const { nullable, ...rest } = v;
    properties[k] = v.type === undefined && v.$ref === undefined && nullable === true ? rest : v;
  }
  return { ...schema, properties };
}
const recordingSchema = untypedNullable(spec.components.schemas['api.v2010.account.recording'] as Json);
const callRecordingSchema = untypedNullable(spec.components.schemas['api.v2010.account.call.call_recording'] as Json);

/** A list envelope with every declared field and no other, its items strict too. */
function strictList(route: string, key: string, item: Json): Json {
  const list = responseSchema(route, 'get', '200');
  return strict({
    ...list,
    properties: { ...(list.properties as Json), [key]: { type: 'array', items: strict(item) } },
  });
}

/** Calls and Recordings, as the spec describes them (strict: every declared field, no other). */
export const voiceValidators = {
  call: ajv.compile(resolveRefs(callSchema)),
  strictCall: ajv.compile(resolveRefs(strict(callSchema))),
  callList: ajv.compile(resolveRefs(responseSchema(CALLS, 'get', '200'))),
  strictCallList: ajv.compile(resolveRefs(strictList(CALLS, 'calls', callSchema))),
  strictRecording: ajv.compile(resolveRefs(strict(recordingSchema))),
  recording: ajv.compile(resolveRefs(recordingSchema)),
  strictRecordingList: ajv.compile(resolveRefs(strictList(RECORDINGS, 'recordings', recordingSchema))),
  strictCallRecording: ajv.compile(resolveRefs(strict(callRecordingSchema))),
  callRecording: ajv.compile(resolveRefs(callRecordingSchema)),
  strictCallRecordingList: ajv.compile(resolveRefs(strictList(CALL_RECORDINGS, 'recordings', callRecordingSchema))),
};

/** The examples Twilio ships in the spec for the Calls and Recordings endpoints. */
export function voiceSpecExamples(): { name: string; kind: keyof typeof voiceValidators; value: unknown }[] {
  const out: { name: string; kind: keyof typeof voiceValidators; value: unknown }[] = [];
  const take = (route: string, method: string, status: string, kind: keyof typeof voiceValidators) => {
    const op = spec.paths[route]?.[method] as Json | undefined;
    const content = (op?.responses as Record<string, Json> | undefined)?.[status]?.content as
      Record<string, Json> | undefined;
    const examples = (content?.['application/json']?.examples ?? {}) as Record<string, { value: unknown }>;
    for (const [name, ex] of Object.entries(examples))
      out.push({ name: `${route} ${method} ${status} ${name}`, kind, value: ex.value });
  };
  take(CALLS, 'post', '201', 'call');
  take(CALLS, 'get', '200', 'callList');
  take(CALL, 'get', '200', 'call');
  take(CALL, 'post', '200', 'call');
  take(RECORDING, 'get', '200', 'recording');
  return out;
}

export const validators = {
  /** The Message resource as the spec describes it. */
  message: ajv.compile(resolveRefs(messageSchema)),
  /** The list envelope as the spec describes it. */
  list: ajv.compile(resolveRefs(listSchema)),
  /** Message with every declared field and no other. */
  strictMessage: ajv.compile(resolveRefs(strict(messageSchema))),
  /** List envelope with every declared field and no other, whose messages are strict too. */
  strictList: ajv.compile(
    resolveRefs(
      strict({
        ...listSchema,
        properties: {
          ...(listSchema.properties as Json),
          messages: { type: 'array', items: strict(messageSchema) },
        },
      }),
    ),
  ),
  /** Twilio's error body (the spec has no schema for it). */
  error: ajv.compile({
    type: 'object',
    required: ['code', 'message', 'more_info', 'status'],
    additionalProperties: false,
    properties: {
      code: { type: 'integer' },
      message: { type: 'string', minLength: 1 },
      more_info: { type: 'string', pattern: '^https://www\\.twilio\\.com/docs/errors/\\d+$' },
      status: { type: 'integer', minimum: 400, maximum: 599 },
    },
  }),
};

/** The examples Twilio ships in the spec for the Messages endpoints, by operation. */
export function specExamples(): { name: string; kind: 'message' | 'list'; value: unknown }[] {
  const out: { name: string; kind: 'message' | 'list'; value: unknown }[] = [];
  const take = (route: string, method: string, status: string, kind: 'message' | 'list') => {
    const op = spec.paths[route]?.[method] as Json;
    const content = (op.responses as Record<string, Json>)[status]?.content as Record<string, Json>;
    const examples = (content['application/json']?.examples ?? {}) as Record<string, { value: unknown }>;
    for (const [name, ex] of Object.entries(examples))
      out.push({ name: `${method} ${status} ${name}`, kind, value: ex.value });
  };
  take(MESSAGES, 'post', '201', 'message');
  take(MESSAGES, 'get', '200', 'list');
  take(MESSAGE, 'get', '200', 'message');
  take(MESSAGE, 'post', '200', 'message');
  return out;
}

export function explain(validate: ValidateFunction): string {
  return ajv.errorsText(validate.errors, { separator: '\n' });
}
