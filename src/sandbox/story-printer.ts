import type { InternalEventV2 } from '../envelope';
import { redactPhone } from '../observability';

const COLORS = {
  dim: '\x1b[2m',
  bold: '\x1b[1m',
  green: '\x1b[32m',
  red: '\x1b[31m',
  yellow: '\x1b[33m',
  cyan: '\x1b[36m',
  reset: '\x1b[0m',
};
type Color = keyof typeof COLORS;

/** Pretty, readable sandbox output; colour only on a TTY. Numbers are shown as-is: they are the sandbox's own. */
export class StoryPrinter {
  constructor(
    private readonly out: { write(s: string): unknown },
    private readonly color: boolean,
  ) {}

  paint(color: Color, text: string): string {
    return this.color ? `${COLORS[color]}${text}${COLORS.reset}` : text;
  }

  title(text: string): void {
    this.out.write(`\n${this.paint('bold', text)}\n`);
  }

  step(n: number, text: string): void {
    this.out.write(`\n${this.paint('cyan', `${n}.`)} ${this.paint('bold', text)}\n`);
  }

  info(text: string): void {
    this.out.write(`   ${this.paint('dim', text)}\n`);
  }

  ok(text: string): void {
    this.out.write(`   ${this.paint('green', '✔')} ${text}\n`);
  }

  fail(text: string): void {
    this.out.write(`   ${this.paint('red', '✘')} ${text}\n`);
  }

  /** One line per event seen on Kafka. */
  event(topic: string, e: InternalEventV2): void {
    this.out.write(
      `   ${this.paint('yellow', '⇢')} ${this.paint('dim', topic.padEnd(13))} ${this.paint('bold', e.type)} ${describe(e)}\n`,
    );
  }
}

export function describe(e: InternalEventV2): string {
  switch (e.type) {
    case 'sms.inbound.received':
      return `${e.data.channel} from ${redactPhone(e.data.from)}: "${e.data.body}"`;
    case 'sms.status.updated':
      return `${e.data.messageSid.slice(0, 10)}… ${e.data.status}${e.data.advances ? '' : ' (late)'}`;
    case 'sms.consent.changed':
      return `${e.data.action} ${redactPhone(e.data.phoneNumber)} (${e.data.scope.kind}, via ${e.data.via})`;
    case 'sms.outbound.requested':
      return `to ${redactPhone(e.data.to ?? '?')}: "${e.data.body ?? e.data.template?.name ?? ''}"`;
    case 'sms.outbound.accepted':
      return `${e.data.messageSid.slice(0, 10)}… ${e.data.numSegments} segment(s), ${e.data.encoding}`;
    case 'sms.outbound.rejected':
      return `${e.data.code}: ${e.data.reason}`;
    case 'sms.outbound.failed':
      return `${e.data.code}: ${e.data.reason}`;
    default:
      return '';
  }
}
