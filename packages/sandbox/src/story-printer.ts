import type { SandboxEvent } from './service-kit';

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
  event(topic: string, e: SandboxEvent): void {
    this.out.write(
      `   ${this.paint('yellow', '⇢')} ${this.paint('dim', topic.padEnd(13))} ${this.paint('bold', e.type)} ${e.summary}\n`,
    );
  }
}
