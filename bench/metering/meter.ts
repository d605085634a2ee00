/**
 * Counts every operation Cloudflare bills a Durable Object for, by wrapping
 * what the worker is given (its bindings and each object's state) without
 * changing what it does:
 * - requests: each call on a Durable Object stub (RPC or fetch), each alarm,
 *   each WebSocket message or close event the runtime delivers to an object;
 * - rows written: `rowsWritten` of every SQL statement, plus one per setAlarm()
 *   and deleteAlarm() (Cloudflare bills setAlarm as one row);
 * - and, not billed, `<class>.bytesWritten`: the bytes bound to statements
 *   that wrote, so a write that grows with a list (not a frame) shows;
 * - and, not billed, `<class>.started`: each run of an object's constructor,
 *   so a wake after an eviction can be proved rather than assumed;
 * - D1, billed apart (rows read and written, not requests): `D1.statements`,
 *   each statement run (one per statement of a batch), and `D1.rows_read` /
 *   `D1.rows_written` from each result's meta. These keys never end in
 *   `.rowsWritten`, so they are not summed with the objects' rows.
 * Counters are per isolate: local workerd runs the worker and all its objects
 * in one, so one snapshot sees everything.
 */

export type Counts = Record<string, number>;

let counts: Counts = {};

export function count(key: string, amount = 1): void {
  if (amount !== 0) counts[key] = (counts[key] ?? 0) + amount;
}

export function snapshot(): Counts {
  return { ...counts };
}

export function reset(): void {
  counts = {};
}

/** A stub whose every call counts as one request to `className`. */
function meteredStub<T extends object>(stub: T, className: string): T {
  return new Proxy(stub, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || typeof property !== "string") return value;
      return (...args: unknown[]) => {
        count(`${className}.request.${property}`);
        // Reflect.apply: an RPC method answers `.apply` itself, as a remote method name.
        return Reflect.apply(value, target, args);
      };
    },
  });
}

/** A namespace binding whose stubs count their calls. */
function meteredNamespace<T extends object>(namespace: DurableObjectNamespace, className: string): T {
  return new Proxy(namespace, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property === "get" && typeof value === "function") {
        return (...args: unknown[]) => meteredStub(Reflect.apply(value, target, args) as object, className);
      }
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as unknown as T;
}

/** A queue producer whose messages are counted as written (Cloudflare bills a write, a read and a delete per message). */
function meteredQueue(queue: Queue, name: string): Queue {
  return new Proxy(queue, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (property === "send") {
        return (...args: unknown[]) => {
          count(`Queue.${name}.written`);
          return Reflect.apply(value as () => unknown, target, args);
        };
      }
      if (property === "sendBatch") {
        return (messages: unknown[], ...rest: unknown[]) => {
          count(`Queue.${name}.written`, messages.length);
          return Reflect.apply(value as () => unknown, target, [messages, ...rest]);
        };
      }
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

interface D1Meta {
  rows_read?: number;
  rows_written?: number;
}

function countD1(meta: D1Meta | undefined): void {
  count("D1.statements");
  count("D1.rows_read", meta?.rows_read ?? 0);
  count("D1.rows_written", meta?.rows_written ?? 0);
}

/**
 * A prepared statement whose runs are counted. `first()` is answered from `all()`,
 * which runs the same query (D1 reads every row for both) and carries the meta.
 */
function meteredStatement(statement: D1PreparedStatement): D1PreparedStatement {
  return new Proxy(statement, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (property === "bind") {
        return (...values: unknown[]) => meteredStatement(target.bind(...values));
      }
      if (property === "run" || property === "all") {
        return async () => {
          const result = await (property === "run" ? target.run() : target.all());
          countD1(result.meta as D1Meta);
          return result;
        };
      }
      if (property === "first") {
        return async (column?: string) => {
          const result = await target.all<Record<string, unknown>>();
          countD1(result.meta as D1Meta);
          const row = result.results[0];
          if (row === undefined) return null;
          if (column === undefined) return row;
          if (!(column in row)) throw new Error(`D1_COLUMN_NOTFOUND: Column not found (${column})`);
          return row[column];
        };
      }
      if (property === "raw") {
        return (...args: unknown[]) => {
          countD1(undefined);
          return Reflect.apply(value as () => unknown, target, args);
        };
      }
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A D1 binding whose statements are counted (with the rows they read and wrote, from their meta). */
function meteredD1(db: D1Database): D1Database {
  return new Proxy(db, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (property === "prepare") return (query: string) => meteredStatement(target.prepare(query));
      if (property === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const results = await target.batch(statements);
          for (const result of results) countD1(result.meta as D1Meta);
          return results;
        };
      }
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The env with each Durable Object namespace (binding name → class name), queue producer and D1 binding metered. */
export function meteredEnv<E extends object>(
  env: E,
  namespaces: Record<string, string>,
  queues: Record<string, string> = {},
  databases: readonly string[] = [],
): E {
  const wrapped: Record<string, unknown> = { ...(env as Record<string, unknown>) };
  for (const [binding, className] of Object.entries(namespaces)) {
    const namespace = (env as Record<string, unknown>)[binding];
    if (namespace) wrapped[binding] = meteredNamespace(namespace as DurableObjectNamespace, className);
  }
  for (const [binding, name] of Object.entries(queues)) {
    const queue = (env as Record<string, unknown>)[binding];
    if (queue) wrapped[binding] = meteredQueue(queue as Queue, name);
  }
  for (const binding of databases) {
    const db = (env as Record<string, unknown>)[binding];
    if (db) wrapped[binding] = meteredD1(db as D1Database);
  }
  return wrapped as E;
}

/** A delivered batch whose reads, acknowledgements and retries are counted. */
export function meteredBatch<T>(batch: MessageBatch<T>, name: string): MessageBatch<T> {
  count(`Queue.${name}.delivered`, batch.messages.length);
  return {
    queue: batch.queue,
    metadata: batch.metadata,
    messages: batch.messages.map((message) => ({
      id: message.id,
      timestamp: message.timestamp,
      body: message.body,
      attempts: message.attempts,
      ack: () => {
        count(`Queue.${name}.acked`);
        message.ack();
      },
      retry: (options?: QueueRetryOptions) => {
        count(`Queue.${name}.retried`);
        message.retry(options);
      },
    })),
    ackAll: () => {
      count(`Queue.${name}.acked`, batch.messages.length);
      batch.ackAll();
    },
    retryAll: (options?: QueueRetryOptions) => {
      count(`Queue.${name}.retried`, batch.messages.length);
      batch.retryAll(options);
    },
  };
}

const utf8 = new TextEncoder();

function boundBytes(bindings: readonly unknown[]): number {
  let bytes = 0;
  for (const value of bindings) {
    if (typeof value === "string") bytes += utf8.encode(value).byteLength;
    else if (value instanceof ArrayBuffer) bytes += value.byteLength;
    else if (value !== null && value !== undefined) bytes += 8;
  }
  return bytes;
}

function meteredSql(sql: SqlStorage, className: string): SqlStorage {
  return new Proxy(sql, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (property === "exec") {
        return (query: string, ...bindings: unknown[]) => {
          const cursor = target.exec(query, ...bindings);
          // DML runs when exec() is called, so its rows are counted by now. Miniflare's own
          // bookkeeping (it stores ctx.id.name in __miniflare_do_name when an object starts)
          // goes through the same storage locally; production has no such write.
          if (!query.includes("__miniflare_") && cursor.rowsWritten > 0) {
            count(`${className}.rowsWritten`, cursor.rowsWritten);
            // Not billed: the bytes a write statement carried, a measure of the work it made.
            count(`${className}.bytesWritten`, boundBytes(bindings));
          }
          return cursor;
        };
      }
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function meteredStorage(storage: DurableObjectStorage, className: string): DurableObjectStorage {
  const sql = meteredSql(storage.sql, className);
  return new Proxy(storage, {
    get(target, property) {
      if (property === "sql") return sql;
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (property === "setAlarm" || property === "deleteAlarm") {
          count(`${className}.${property}`);
          count(`${className}.rowsWritten`);
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/**
 * Meters the object's storage in place. The runtime insists on its own state
 * object (a proxy is refused), so `storage` is shadowed on that very instance.
 */
export function meterState(ctx: DurableObjectState, className: string): DurableObjectState {
  Object.defineProperty(ctx, "storage", { value: meteredStorage(ctx.storage, className), configurable: true });
  return ctx;
}

/** The runtime's own entry points into an object; calls on stubs are counted where they are made. */
const HANDLERS = ["alarm", "webSocketMessage", "webSocketClose", "webSocketError"] as const;

type ObjectClass<E> = new (ctx: DurableObjectState, env: E) => object;

/** A subclass that runs on metered state and env and counts the runtime's calls into it. */
export function meteredClass<E extends object, C extends ObjectClass<E>>(
  Base: C,
  className: string,
  namespaces: Record<string, string>,
  queues: Record<string, string> = {},
): C {
  const Metered = class extends (Base as ObjectClass<E>) {
    constructor(ctx: DurableObjectState, env: E) {
      // Not billed: how often the object started (after an eviction, say), to prove it did.
      count(`${className}.started`);
      super(meterState(ctx, className), meteredEnv(env, namespaces, queues));
    }
  };
  for (const handler of HANDLERS) {
    const original = (Base.prototype as Record<string, unknown>)[handler];
    if (typeof original !== "function") continue;
    Object.defineProperty(Metered.prototype, handler, {
      value(this: object, ...args: unknown[]) {
        count(`${className}.request.${handler}`);
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      },
      configurable: true,
      writable: true,
    });
  }
  return Metered as unknown as C;
}
