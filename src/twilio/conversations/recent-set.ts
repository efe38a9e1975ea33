/**
 * A bounded set of recently seen keys (message SIDs): membership for dedup
 * without growing forever. The oldest key is forgotten first; a forgotten SID
 * that comes back is still stopped by the per-conversation checkpoint.
 */
export class RecentSet {
  private readonly keys = new Map<string, true>();

  constructor(private readonly capacity = 10_000) {}

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(key: string): void {
    if (this.keys.has(key)) return;
    this.keys.set(key, true);
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.keys().next().value;
      if (oldest !== undefined) this.keys.delete(oldest);
    }
  }

  get size(): number {
    return this.keys.size;
  }
}
