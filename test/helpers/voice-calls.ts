import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import twilio from 'twilio';

/** Fixed voice fixtures: an account, the numbers the routing file names, and SID makers. */
export const VOICE_ACCOUNT = 'AC' + 'd4'.repeat(16);
export const VOICE_TOKEN = 'voice-auth-token-0123456789';
export const FORWARD_NUMBER = '+14155550100';
export const VOICEMAIL_NUMBER = '+14155550101';
export const BUSY_NUMBER = '+14155550102';
export const AGENT = '+14155550199';
export const CALLER = '+14155550123';
export const NOTICE = 'This call may be recorded.';

export const callSidOf = (n: number) => 'CA' + n.toString(16).padStart(32, '0');
export const recordingSidOf = (n: number) => 'RE' + n.toString(16).padStart(32, '0');
export const transcriptionSidOf = (n: number) => 'TR' + n.toString(16).padStart(32, '0');

/** A routing file with one rule of each kind; returns its path. */
export function writeRoutingFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ie-voice-routing-'));
  const file = path.join(dir, 'routing.yaml');
  writeFileSync(
    file,
    [
      'rules:',
      '  front-desk:',
      '    action: forward',
      `    to: "${AGENT}"`,
      '    timeoutSecs: 15',
      '    record: true',
      '    voicemailWhenUnanswered:',
      '      greeting: { say: "Nobody could take your call. Leave a message." }',
      '      maxLengthSecs: 60',
      '      transcribe: true',
      'numbers:',
      `  "${FORWARD_NUMBER}": front-desk`,
      `  "${VOICEMAIL_NUMBER}":`,
      '    action: voicemail',
      '    greeting: { say: "Please leave a message after the beep." }',
      '    maxLengthSecs: 120',
      '    finishOnKey: "*"',
      '    transcribe: true',
      `  "${BUSY_NUMBER}": { action: busy }`,
      'default: { action: reject }',
      '',
    ].join('\n'),
  );
  return file;
}

/** The parameters Twilio sends with an incoming call. */
export function incomingCall(n: number, to: string, from = CALLER): Record<string, string> {
  return {
    CallSid: callSidOf(n),
    AccountSid: VOICE_ACCOUNT,
    From: from,
    To: to,
    Caller: from,
    Called: to,
    CallStatus: 'ringing',
    Direction: 'inbound',
    ApiVersion: '2010-04-01',
    FromCountry: 'US',
    FromState: 'CA',
    StirVerstat: 'TN-Validation-Passed-A',
  };
}

/** POSTs Twilio-signed form parameters (signed with `token`, or the given signature). */
export async function postSigned(
  url: string,
  params: Record<string, string>,
  options: { token?: string; signature?: string | null } = {},
): Promise<{ status: number; body: string; contentType: string | null }> {
  const signature =
    options.signature === undefined
      ? twilio.getExpectedTwilioSignature(options.token ?? VOICE_TOKEN, url, params)
      : options.signature;
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signature === null ? {} : { 'x-twilio-signature': signature }),
    },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') };
}
