import { SegmentedMessage } from 'sms-segments-calculator';

/**
 * Segment counts as Twilio reports them in `num_segments`. Plain GSM-7 text
 * (nearly every benchmark and test body) is counted here directly, because
 * Twilio's calculator costs ~100 µs a message and would cap the simulator near
 * 10,000 creates/s; anything else goes to the calculator.
 */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '\f^{}\\[~]|€';

const basic = new Set<number>();
for (const ch of GSM_BASIC) basic.add(ch.charCodeAt(0));
const extension = new Set<number>();
for (const ch of GSM_EXTENSION) extension.add(ch.charCodeAt(0));

/**
 * Septets needed in GSM-7; -1 when the text needs another encoding, or when an
 * escape pair could straddle a segment boundary (the calculator handles that).
 */
function gsmSeptets(text: string): number {
  let septets = 0;
  let escapes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (basic.has(c)) septets += 1;
    else if (extension.has(c)) {
      septets += 2;
      escapes = true;
    } else return -1;
  }
  return escapes && septets > 160 ? -1 : septets;
}

export function countSegments(body: string, smartEncoded: boolean): number {
  if (body.length === 0) return 1;
  const septets = gsmSeptets(body);
  if (septets >= 0) return septets <= 160 ? 1 : Math.ceil(septets / 153);
  return new SegmentedMessage(body, 'auto', smartEncoded).segmentsCount;
}
