import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiRequestError, parseInput, type ApiRouteSpec } from '../../api-kit';
import { readRetriable } from '../../resilience';
import type { Metrics } from '../../observability';
import { endCall, type EndCallDeps } from './end-call';
import type { RecordingFetcher } from './recording-fetcher';

const params = z.object({ CallSid: z.string().regex(/^CA[0-9a-fA-F]{32}$/, 'must be a CallSid') });

const endSpec: ApiRouteSpec = {
  scope: 'send',
  tag: 'calls',
  summary: 'End a live call',
  description: 'Asks Twilio to hang the call up (Status=completed). A call that already ended answers alreadyEnded.',
  params,
  responses: {
    200: { description: 'The call is over: { callSid, status, alreadyEnded }' },
    404: { description: 'Twilio knows no such call' },
    503: { description: 'Twilio did not answer' },
  },
};

const recordingSpec: ApiRouteSpec = {
  scope: 'read',
  tag: 'calls',
  summary: "Stream the call's latest recording (audio/x-wav)",
  description: "Fetched from Twilio with the account's credentials; the caller never sees them or a URL holding them.",
  params,
  responses: {
    200: { description: 'The recording audio' },
    404: { description: 'No such call, or it has no completed recording' },
    503: { description: 'Twilio did not answer' },
  },
};

/** `POST /api/calls/{CallSid}/end` and `GET /api/calls/{CallSid}/recording`, behind the API token layer. */
export function createCallRoutes(o: {
  accountSid: string;
  end: EndCallDeps;
  recordings: () => RecordingFetcher;
  metrics?: Metrics | undefined;
}): (app: FastifyInstance) => void {
  return (app) => {
    app.post('/api/calls/:CallSid/end', { config: { api: endSpec } }, async (req, reply) => {
      const { CallSid } = parseInput(params, req.params, 'params');
      const abort = new AbortController();
      req.raw.on('close', () => abort.abort());
      let r: Awaited<ReturnType<typeof endCall>>;
      try {
        r = await endCall(o.end, o.accountSid, CallSid, abort.signal, 2);
      } catch (err) {
        o.metrics?.voiceCallsEnded.inc({ via: 'api', outcome: 'failed' });
        if (readRetriable(err)) throw new ApiRequestError(503, 'unavailable', 'Twilio did not answer; try again');
        throw err;
      }
      if (r.kind === 'rejected') {
        o.metrics?.voiceCallsEnded.inc({ via: 'api', outcome: 'rejected' });
        if (r.failure.status === 404 || r.failure.twilioErrorCode === 20404) {
          throw new ApiRequestError(404, 'not_found', 'Twilio knows no such call');
        }
        throw new ApiRequestError(502, 'internal', `Twilio refused to end the call (${r.failure.type})`);
      }
      o.metrics?.voiceCallsEnded.inc({ via: 'api', outcome: r.kind });
      return reply.code(200).send({ callSid: CallSid, status: r.status, alreadyEnded: r.kind === 'already_ended' });
    });

    app.get('/api/calls/:CallSid/recording', { config: { api: recordingSpec } }, async (req, reply) => {
      const { CallSid } = parseInput(params, req.params, 'params');
      let media: Awaited<ReturnType<RecordingFetcher['latest']>>;
      try {
        media = await o.recordings().latest(CallSid);
      } catch {
        throw new ApiRequestError(503, 'unavailable', 'Twilio did not answer; try again');
      }
      if (!media.found) {
        if (media.status === 404) throw new ApiRequestError(404, 'not_found', 'No completed recording for this call');
        throw new ApiRequestError(503, 'unavailable', `Twilio answered ${media.status}`);
      }
      reply.header('content-type', media.contentType);
      if (media.contentLength !== undefined) reply.header('content-length', media.contentLength);
      reply.header('x-recording-sid', media.recordingSid);
      return reply.code(200).send(media.body);
    });
  };
}
