/**
 * Temporary folders that a test file's tests make, each removed when the
 * test that made it ends, passed or failed (tests of one file run one after
 * the other, so the folders made during a test are its own).
 *
 * @module
 */

/** The temporary folders of one test file. */
export class TempDirs {
  readonly #dirs: string[] = [];

  /** A new empty folder in the system's temp directory, removed when the running test ends. */
  async make(prefix: string): Promise<string> {
    const dir = await Deno.makeTempDir({ prefix });
    this.#dirs.push(dir);
    return dir;
  }

  /** `Deno.test(name, fn)`, removing the folders {@linkcode TempDirs.make} made during `fn` when it ends. */
  test(name: string, fn: () => void | Promise<void>): void {
    Deno.test(name, async () => {
      try {
        await fn();
      } finally {
        for (const dir of this.#dirs.splice(0)) await Deno.remove(dir, { recursive: true });
      }
    });
  }
}
