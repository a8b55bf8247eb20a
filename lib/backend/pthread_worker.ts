/**
 * The program each Emscripten pthread of the threaded tfjs WASM backend runs,
 * as a `node:worker_threads` worker in Deno.
 *
 * It plays the role of the `*.worker.js` Emscripten ships (which tfjs hands
 * out as a Blob URL that Deno refuses): it receives the compiled WebAssembly
 * module, the shared memory and the glue's source from the main thread,
 * instantiates the glue as a pthread and runs the thread entry points.
 *
 * The worker is loaded from a `data:` URL built from {@linkcode pthreadWorkerMain}'s
 * source, so it needs no file next to this module: it works the same from a
 * local checkout, a remote import and a compiled binary.
 *
 * @module
 */

/**
 * The URL of the pthread worker program (a `data:` URL, wrapped in `URL`
 * as `node:worker_threads` requires).
 */
export function pthreadWorkerUrl(): URL {
  const source = `(${pthreadWorkerMain.toString()})();`;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

/**
 * Body of the worker. It must be self-contained (it is serialised with
 * `toString()`): no references to anything outside the function.
 *
 * Messages follow Emscripten 3.1's pthread protocol: `load`, `run`,
 * `cancel`, `processProxyingQueue` in; `loaded`, `callHandler` and the
 * glue's own messages out, plus `pthreadError` (ours) when a message fails.
 */
function pthreadWorkerMain(): void {
  type Fn = (...args: unknown[]) => unknown;
  type Glue = Record<string, unknown>;
  interface LoadMessage {
    cmd: "load";
    handlers: string[];
    urlOrBlob: string | Blob;
    wasmMemory: WebAssembly.Memory;
    wasmModule: WebAssembly.Module;
  }
  type Message = { cmd?: string; [key: string]: unknown };

  const start = async (): Promise<void> => {
    const { parentPort } = await import("node:worker_threads");
    if (!parentPort) return;
    const port = parentPort;
    const post = (msg: unknown, transfer?: unknown[]): void => {
      port.postMessage(msg, transfer as never);
    };
    let glue: Glue = {};
    let runtimeReady = false;
    let pendingQueues: unknown[] = [];
    const call = (name: string, ...args: unknown[]): unknown => (glue[name] as Fn)(...args);
    const pthread = (name: string, ...args: unknown[]): unknown =>
      ((glue.PThread as Glue)[name] as Fn)(...args);

    const load = async (data: LoadMessage): Promise<void> => {
      const module: Glue = {
        wasmModule: data.wasmModule,
        wasmMemory: data.wasmMemory,
        buffer: data.wasmMemory.buffer,
        ENVIRONMENT_IS_PTHREAD: true,
        instantiateWasm: (imports: WebAssembly.Imports, receive: (i: WebAssembly.Instance) => void) => {
          const instance = new WebAssembly.Instance(data.wasmModule, imports);
          receive(instance);
          return instance.exports;
        },
      };
      for (const handler of data.handlers) {
        module[handler] = (...args: unknown[]) => post({ cmd: "callHandler", handler, args });
      }
      glue = module;
      const source = typeof data.urlOrBlob === "string" ? data.urlOrBlob : await data.urlOrBlob.text();
      // The glue is the browser flavour when `process` is hidden and
      // `importScripts` exists; `self`, `postMessage` and `startWorker` are
      // the only worker globals it uses.
      const factory = new Function(
        "process",
        "importScripts",
        "self",
        "postMessage",
        "startWorker",
        `${source}\nreturn WasmBackendModuleThreadedSimd;`,
      )(undefined, () => {}, { location: { href: "file:///tfjs-pthread/" } }, post, (instance: Glue) => {
        glue = instance;
        post({ cmd: "loaded" });
      }) as (m: Glue) => unknown;
      factory(module);
    };

    const run = (data: Message): void => {
      call("__emscripten_thread_init", data.pthread_ptr, 0, 0, 1);
      call("establishStackSpace");
      pthread("receiveObjectTransfer", data);
      pthread("threadInitTLS");
      if (!runtimeReady) {
        for (const queue of pendingQueues) call("executeNotifiedProxyingQueue", queue);
        pendingQueues = [];
        runtimeReady = true;
      }
      try {
        call("invokeEntryPoint", data.start_routine, data.arg);
      } catch (ex) {
        if (ex === "unwind") return;
        if (ex instanceof (glue.ExitStatus as new () => unknown)) {
          if (!call("keepRuntimeAlive")) call("__emscripten_thread_exit", (ex as { status: number }).status);
          return;
        }
        throw ex;
      }
    };

    const handle = async (data: Message): Promise<void> => {
      switch (data.cmd) {
        case "load":
          await load(data as unknown as LoadMessage);
          break;
        case "run":
          run(data);
          break;
        case "cancel":
          if (call("_pthread_self")) call("__emscripten_thread_exit", -1);
          break;
        case "processProxyingQueue":
          if (runtimeReady) call("executeNotifiedProxyingQueue", data.queue);
          else pendingQueues.push(data.queue);
          break;
      }
    };

    // `load` is asynchronous (reading the glue's Blob): keep messages in order.
    let chain: Promise<void> = Promise.resolve();
    // Failures are reported as a message, which the main thread turns into a
    // fallback (during start-up) or an error.
    port.on("message", (data: Message) => {
      chain = chain.then(() => handle(data)).catch((err: unknown) => {
        post({ cmd: "pthreadError", message: err instanceof Error ? err.message : String(err) });
      });
    });
  };
  start();
}
