/**
 * Worker threads that each run their own single-threaded TF.js backend: the
 * machinery under the data-parallel model (./workers.ts) and the
 * data-parallel simulator (../simulation/parallel.ts). A worker program
 * answers requests with {@linkcode serveRequests}; the main thread starts
 * workers with {@linkcode WorkerPool.start} and sends each one requests.
 *
 * Workers never keep the process alive while idle, a worker that dies fails
 * its pending requests with a clear error, and a worker that does not start
 * in time is an error, not a hang.
 *
 * @module
 */
import { parentPort, Worker as NodeWorker } from "node:worker_threads";
import { ConfigError, SnnToolboxError } from "../errors.ts";

/** A request to a worker: a `kind` and its fields (structured-cloneable). */
export interface PoolMessage {
  /** What is asked for or answered. */
  kind: string;
}

/** The envelope of a request or reply (internal protocol). */
interface Envelope<T> {
  id: number;
  body: T;
}

/** A reply: the body, a failure, or an event (no id) such as progress. */
type ReplyEnvelope<R> =
  | { kind: "listening" }
  | { kind: "reply"; id: number; body: R }
  | { kind: "error"; id: number; message: string }
  | { kind: "event"; body: unknown };

/**
 * Whether worker programs can be loaded: they are separate modules, found
 * beside this one when the toolbox runs from its sources (local or remote);
 * in a single-file bundle or compiled binary every module is the bundle, so
 * there is no worker program to start and callers use one thread.
 */
export function workersAvailable(): boolean {
  return import.meta.url.endsWith("/lib/backend/pool.ts");
}

/** How long workers may take to start and answer their first request before the pool gives up. */
export const WORKER_START_TIMEOUT_MS = 120_000;

/**
 * `node:worker_threads` only loads `file:` and `data:` URLs: a `data:` module
 * that imports the worker program by its full URL works from a local
 * checkout and from a remote import alike. It first imports `modules`, in
 * order (e.g. modules that register custom layers); importing them here
 * rather than in the worker program keeps the published code free of
 * unanalyzable dynamic imports.
 */
function bootstrapUrl(program: string, modules: readonly string[]): URL {
  const code = [...modules, program].map((url) => `await import(${JSON.stringify(url)});`).join("\n");
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** One worker and its pending requests. */
class Member<Q, R> {
  readonly #worker: NodeWorker;
  readonly #listening: Promise<void>;
  readonly #pending = new Map<number, { resolve: (r: R) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #onEvent: (event: unknown) => void = () => {};

  constructor(program: string, modules: readonly string[]) {
    this.#worker = new NodeWorker(bootstrapUrl(program, modules));
    this.#worker.unref();
    // Requests wait until the worker program listens: a message posted while
    // it is still importing its modules could otherwise be lost (seen as a hang).
    let listening!: () => void;
    this.#listening = new Promise<void>((resolve) => (listening = resolve));
    this.#worker.on("message", (reply: ReplyEnvelope<R>) => {
      if (reply.kind === "listening") listening();
      else if (reply.kind === "event") this.#onEvent(reply.body);
      else if (reply.kind === "reply") this.#settle(reply.id, (p) => p.resolve(reply.body));
      else {
        const err = new SnnToolboxError(reply.message);
        this.#settle(reply.id, (p) => p.reject(err));
      }
    });
    this.#worker.on("error", (err: unknown) => this.#failAll(err));
    this.#worker.on("exit", (code: number) => this.#failAll(`worker exited with code ${code}`));
  }

  /** Send a request and wait for its reply; the worker keeps the process alive meanwhile. */
  request(body: Q, transfer: ArrayBuffer[] = [], onEvent?: (event: unknown) => void): Promise<R> {
    const id = this.#nextId++;
    if (onEvent) this.#onEvent = onEvent;
    return new Promise<R>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (this.#pending.size === 1) this.#worker.ref();
      const envelope: Envelope<Q> = { id, body };
      this.#listening.then(() => this.#worker.postMessage(envelope, transfer));
    });
  }

  terminate(): Promise<number> {
    return this.#worker.terminate();
  }

  #settle(id: number, fn: (p: { resolve: (r: R) => void; reject: (e: Error) => void }) => void): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker.unref();
    fn(p);
  }

  #failAll(reason: unknown): void {
    const err = new SnnToolboxError(
      `data-parallel worker failed: ${reason instanceof Error ? reason.message : String(reason)}`,
      { cause: reason },
    );
    for (const id of [...this.#pending.keys()]) this.#settle(id, (p) => p.reject(err));
  }
}

/** `promise`, or a rejection with `message` after `ms` (a stuck worker becomes an error, not a hang). */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SnnToolboxError(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A fixed set of workers running one worker program. */
export class WorkerPool<Q extends PoolMessage, R extends PoolMessage> {
  readonly #members: Member<Q, R>[];

  private constructor(members: Member<Q, R>[]) {
    this.#members = members;
  }

  /**
   * Start `count` workers of `program` (a module URL that calls
   * {@linkcode serveRequests}), each importing `modules` first, and send
   * each the request `init(i)`; resolves with the pool and the replies.
   */
  static async start<Q extends PoolMessage, R extends PoolMessage>(
    program: URL | string,
    count: number,
    init: (i: number) => Q,
    modules: readonly (URL | string)[] = [],
  ): Promise<{ pool: WorkerPool<Q, R>; replies: R[] }> {
    const pool = WorkerPool.spawn<Q, R>(program, count, modules);
    try {
      return { pool, replies: await pool.requestAll(init, Array.from({ length: count }, (_, i) => i)) };
    } catch (err) {
      await pool.close();
      throw err;
    }
  }

  /**
   * Start `count` workers of `program` without waiting for them: they load
   * their modules while the caller goes on, and requests sent meanwhile
   * wait until a worker listens (see {@linkcode WorkerPool.start}).
   */
  static spawn<Q extends PoolMessage, R extends PoolMessage>(
    program: URL | string,
    count: number,
    modules: readonly (URL | string)[] = [],
  ): WorkerPool<Q, R> {
    if (!Number.isInteger(count) || count < 1) {
      throw new ConfigError(`the number of workers must be a positive integer, found ${count}`);
    }
    const urls = modules.map(String);
    return new WorkerPool(Array.from({ length: count }, () => new Member<Q, R>(String(program), urls)));
  }

  /**
   * Send `request(i)` to each worker `i` of `members` and wait for all
   * replies, at most {@linkcode WORKER_START_TIMEOUT_MS} (for requests that
   * start workers up: a worker that never answers is an error, not a hang).
   */
  requestAll(request: (i: number) => Q, members: readonly number[]): Promise<R[]> {
    return withTimeout(
      Promise.all(members.map((i) => this.#members[i].request(request(i)))),
      WORKER_START_TIMEOUT_MS,
      `data-parallel workers did not start within ${WORKER_START_TIMEOUT_MS / 1000} s`,
    );
  }

  /** Number of workers. */
  get size(): number {
    return this.#members.length;
  }

  /** Send worker `i` a request (transferring `transfer`); `onEvent` receives its events until the reply. */
  request(i: number, body: Q, transfer: ArrayBuffer[] = [], onEvent?: (event: unknown) => void): Promise<R> {
    return this.#members[i].request(body, transfer, onEvent);
  }

  /** Stop the workers. */
  async close(): Promise<void> {
    await Promise.all(this.#members.map((m) => m.terminate()));
  }
}

/** A handler's answer: the reply and the buffers to transfer with it. */
export interface HandlerResult<R> {
  /** The reply. */
  reply: R;
  /** Buffers moved (not copied) to the main thread. */
  transfer?: ArrayBuffer[];
}

/**
 * In a worker program: answer requests with `handle`, one at a time in
 * order (a thrown error becomes the request's rejection). `emit` posts an
 * event (e.g. progress) to the request being handled.
 */
export function serveRequests<Q, R>(
  handle: (request: Q, emit: (event: unknown) => void) => Promise<HandlerResult<R>>,
): void {
  const port = parentPort;
  if (!port) return;
  const emit = (body: unknown) => port.postMessage({ kind: "event", body });
  let chain: Promise<void> = Promise.resolve();
  port.on("message", (req: Envelope<Q>) => {
    chain = chain.then(async () => {
      try {
        const { reply, transfer } = await handle(req.body, emit);
        port.postMessage({ kind: "reply", id: req.id, body: reply }, transfer ?? []);
      } catch (err) {
        port.postMessage({
          kind: "error",
          id: req.id,
          message: err instanceof Error ? err.message : String(err),
        });
      }
    });
  });
  // Tell the parent that requests can be sent now.
  port.postMessage({ kind: "listening" });
}

/** The buffers of every typed array in `value` (nested in objects and arrays), for transfer. */
export function transferables(value: unknown, out: ArrayBuffer[] = []): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    const buf = value.buffer as ArrayBuffer;
    if (buf instanceof ArrayBuffer && !out.includes(buf)) out.push(buf);
  } else if (Array.isArray(value)) {
    for (const v of value) transferables(v, out);
  } else if (value && typeof value === "object") {
    for (const v of Object.values(value)) transferables(v, out);
  }
  return out;
}
