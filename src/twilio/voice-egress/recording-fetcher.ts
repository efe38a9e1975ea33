import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

export interface RecordingFetcherOptions {
  /** TWILIO_API_BASE_URL (https://api.twilio.com, or the simulator). */
  apiBaseUrl: string;
  accountSid: string;
  authToken: string;
  timeoutMs: number;
}

export type RecordingMedia =
  | { found: true; recordingSid: string; contentType: string; contentLength: string | undefined; body: Readable }
  | { found: false; status: number };

/**
 * Fetches a call's latest recording from Twilio with the account's
 * credentials (Basic auth in a header, never in a URL), for the operator
 * endpoint that streams it: the credentials never leave this process and no
 * URL holding them is built, logged or returned.
 */
export class RecordingFetcher {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly auth: string;

  constructor(private readonly o: RecordingFetcherOptions) {
    this.base = new URL(o.apiBaseUrl.replace(/\/+$/, '') + '/');
    this.agent =
      this.base.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, minVersion: 'TLSv1.2', rejectUnauthorized: true })
        : new http.Agent({ keepAlive: true });
    this.auth = 'Basic ' + Buffer.from(`${o.accountSid}:${o.authToken}`).toString('base64');
  }

  /** The newest completed recording of the call, as a WAV stream; `found: false` with Twilio's status otherwise. */
  async latest(callSid: string): Promise<RecordingMedia> {
    const account = encodeURIComponent(this.o.accountSid);
    const list = await this.request(
      `2010-04-01/Accounts/${account}/Calls/${encodeURIComponent(callSid)}/Recordings.json?PageSize=20`,
    );
    if (list.statusCode !== 200) {
      list.resume();
      return { found: false, status: list.statusCode ?? 502 };
    }
    const json = JSON.parse(await text(list)) as {
      recordings?: { sid?: string; status?: string; date_created?: string }[];
    };
    const done = (json.recordings ?? []).filter((r) => r.sid && (r.status === undefined || r.status === 'completed'));
    done.sort((a, b) => Date.parse(b.date_created ?? '') - Date.parse(a.date_created ?? ''));
    const sid = done[0]?.sid;
    if (sid === undefined) return { found: false, status: 404 };
    const media = await this.request(`2010-04-01/Accounts/${account}/Recordings/${encodeURIComponent(sid)}.wav`);
    if (media.statusCode !== 200) {
      media.resume();
      return { found: false, status: media.statusCode ?? 502 };
    }
    return {
      found: true,
      recordingSid: sid,
      contentType: media.headers['content-type'] ?? 'audio/x-wav',
      contentLength: media.headers['content-length'],
      body: media,
    };
  }

  close(): void {
    this.agent.destroy();
  }

  private request(path: string): Promise<http.IncomingMessage> {
    const url = new URL(path, this.base);
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, {
        agent: this.agent,
        headers: { authorization: this.auth },
        timeout: this.o.timeoutMs,
      });
      req.on('response', resolve);
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error('Twilio did not answer in time'), { code: 'ETIMEDOUT' })),
      );
      req.on('error', reject);
      req.end();
    });
  }
}

async function text(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
