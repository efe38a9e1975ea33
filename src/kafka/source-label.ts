const NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/**
 * Bounded metric labels for the `source` of egress records no connector here handles. `source` is free text
 * in the envelope (up to 100 characters): a short lower-case name keeps its own label, up to `cap` of them;
 * anything else, or any name past the cap, is `other`, so a producer cannot grow the series without bound
 * (nor put a phone number in a label).
 */
export class SourceLabels {
  private readonly known = new Set<string>();
  private readonly logged = new Set<string>();

  constructor(private readonly cap = 20) {}

  of(source: string): string {
    if (this.known.has(source)) return source;
    if (!NAME.test(source) || this.known.size >= this.cap) return 'other';
    this.known.add(source);
    return source;
  }

  /** True the first time a source's label is seen: log once per source (once for all of `other`). */
  firstSeen(source: string): boolean {
    const label = this.of(source);
    if (this.logged.has(label)) return false;
    this.logged.add(label);
    return true;
  }
}
