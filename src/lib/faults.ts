/**
 * Test-only failure injection. A Durable Object holds one as a plain field:
 * only code running inside the object (a test's runInDurableObject) can arm
 * it, no request or RPC reaches it, and nothing in the worker arms it, so in
 * production every check is a miss.
 */
export class FaultSwitch<Name extends string> {
  private readonly armed = new Set<Name>();

  arm(name: Name): void {
    this.armed.add(name);
  }

  /** True once after `name` was armed. */
  tripped(name: Name): boolean {
    return this.armed.delete(name);
  }

  /** Throws once after `name` was armed. */
  trip(name: Name): void {
    if (this.tripped(name)) throw new Error(`injected fault: ${name}`);
  }
}
