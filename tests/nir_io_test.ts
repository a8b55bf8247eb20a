/**
 * NIR files (lib/io/nir.ts): a graph of every node kind written and read
 * back unchanged; the layout checked against the reference implementation
 * (neuromorphs/NIR: `nir.read` accepts the file and `nir.write` of what it
 * read lays out the same datasets, dtypes, shapes and strings), and the
 * reference's own file read back to the same graph; a real NIR file of the
 * NIR paper read; malformed files refused naming the file and node.
 */
import { h5wasm } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { ModelFormatError, UnsupportedLayerError } from "../lib/errors.ts";
import { hdf5Ready } from "../lib/io/hdf5.ts";
import type { NDArray } from "../lib/io/ndarray.ts";
import type { NirGraph } from "../lib/io/nir.ts";
import { readNir } from "../lib/io/nir_read.ts";
import { writeNir } from "../lib/io/nir_write.ts";
import { spikingModelFromNir } from "../lib/simulation/nir.ts";
import { assertEquals, assertRejects, assertTrue } from "./_assert.ts";
import { referenceCheck } from "./_nir.ts";

const f32 = (shape: number[], f: (i: number) => number = (i) => i / 7 - 1): NDArray => ({
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)),
  shape,
  dtype: "float32",
});

/** A graph with every node kind the toolbox models (a NIR-valid, type-consistent graph). */
function everyKind(): NirGraph {
  return {
    type: "NIRGraph",
    nodes: {
      input: { type: "Input", shape: [2, 6, 6] },
      conv: {
        type: "Conv2d",
        inputShape: [6, 6],
        weight: f32([3, 2, 3, 3]),
        stride: [1, 1],
        padding: [1, 1],
        dilation: [1, 1],
        groups: 1,
        bias: f32([3]),
        metadata: { toolbox_layer: "00Conv2D", note: "ü ✓" },
      },
      if1: {
        type: "IF",
        r: f32([3, 6, 6], () => 1),
        vThreshold: f32([3, 6, 6], () => 0.5),
        vReset: f32([3, 6, 6], () => 0),
      },
      pool: { type: "SumPool2d", kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] },
      scale: { type: "Scale", scale: f32([3, 3, 3], () => 0.25) },
      avg: { type: "AvgPool2d", kernelSize: [3, 3], stride: [3, 3], padding: [0, 0] },
      flat: { type: "Flatten", inputType: [3, 1, 1], startDim: 0, endDim: -1 },
      aff: { type: "Affine", weight: f32([4, 3]), bias: f32([4]) },
      lin: { type: "Linear", weight: f32([4, 4]) },
      thr: { type: "Threshold", threshold: f32([4], () => 0.1) },
      output: { type: "Output", shape: [4] },
    },
    edges: [
      ["input", "conv"],
      ["conv", "if1"],
      ["if1", "pool"],
      ["pool", "scale"],
      ["scale", "avg"],
      ["avg", "flat"],
      ["flat", "aff"],
      ["aff", "lin"],
      ["lin", "thr"],
      ["thr", "output"],
    ],
    metadata: { producer: "test", dt: 0.5, steps: 100n, ids: ["a", "b"], arr: f32([2]), nested: { k: "v" } },
  };
}

/** A 1-D graph: Conv1d with string padding. */
function conv1d(): NirGraph {
  return {
    type: "NIRGraph",
    nodes: {
      input: { type: "Input", shape: [2, 5] },
      c: {
        type: "Conv1d",
        inputShape: 5,
        weight: f32([3, 2, 3]),
        stride: 1,
        padding: "same",
        dilation: 1,
        groups: 1,
        bias: f32([3]),
      },
      n: {
        type: "IF",
        r: f32([3, 5], () => 1),
        vThreshold: f32([3, 5], () => 1),
        vReset: f32([3, 5], () => 0),
      },
      output: { type: "Output", shape: [3, 5] },
    },
    edges: [["input", "c"], ["c", "n"], ["n", "output"]],
  };
}

/** Plain JSON of a graph (typed arrays as lists, bigints as strings) for comparisons. */
function plain(g: unknown): unknown {
  if (g === undefined) return undefined;
  return JSON.parse(JSON.stringify(g, (_, v) => {
    if (typeof v === "bigint") return `${v}n`;
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, Number);
    return v;
  }));
}

/** Node records without the dtype the reader reports (h5py may widen nothing here; compare values). */
function sortedNodes(g: NirGraph): unknown {
  return plain(Object.fromEntries(Object.entries(g.nodes).sort(([a], [b]) => (a < b ? -1 : 1))));
}

Deno.test("NIR io: every node kind and the metadata are written and read back unchanged", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const g of [everyKind(), conv1d()]) {
      await writeNir(`${dir}/g.nir`, g);
      const back = await readNir(`${dir}/g.nir`);
      assertEquals(back.version, "1.0.7");
      assertEquals(sortedNodes(back.graph), sortedNodes(g));
      assertEquals(back.graph.edges, g.edges);
      assertEquals(plain(back.graph.metadata), plain(g.metadata));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("NIR io: the reference reads our files and rewrites them with the same layout; we read its files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, g] of [["every_kind", everyKind()], ["conv1d", conv1d()]] as const) {
      const file = `${dir}/${name}.nir`;
      await writeNir(file, g);
      const check = await referenceCheck(file, dir);
      if (!check) return;
      assertEquals(check.nodes, Object.keys(g.nodes).sort());
      assertTrue(check.datasets > 10, `${check.datasets} datasets compared`);
      // The file h5py wrote (null-terminated strings, its own chunking) reads back to the same graph.
      const theirs = await readNir(check.rewritten);
      assertEquals(sortedNodes(theirs.graph), sortedNodes(g));
      assertEquals(theirs.graph.edges, g.edges);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const PAPER_CNN = "/work/ref/NIR/paper/02_cnn/cnn_sinabs.nir";
const paperPresent = (() => {
  try {
    return Deno.statSync(PAPER_CNN).isFile;
  } catch {
    return false;
  }
})();
if (!paperPresent) {
  console.warn(`nir_io_test: ${PAPER_CNN} (NIR paper's sinabs CNN) absent; its test is skipped`);
}

Deno.test({
  name:
    "NIR io: the NIR paper's CNN (written by sinabs) is read; its unscaled sum pooling is refused by the simulator",
  ignore: !paperPresent,
  fn: async () => {
    const { graph } = await readNir(PAPER_CNN);
    assertEquals(Object.keys(graph.nodes).length, 15);
    assertEquals(graph.edges.length, 14);
    const conv = graph.nodes["0"];
    assertTrue(conv.type === "Conv2d");
    assertEquals(conv.weight.shape, [16, 2, 5, 5]);
    assertEquals([conv.stride, conv.padding, conv.groups], [[2, 2], [1, 1], 1]);
    const n = graph.nodes["1"];
    assertTrue(n.type === "IF");
    assertEquals(n.r.shape, [16, 16, 16]);
    assertEquals(graph.nodes.input, { type: "Input", shape: [2, 34, 34] });
    await initBackend();
    await assertRejects(
      () => Promise.resolve(spikingModelFromNir(graph, PAPER_CNN)),
      UnsupportedLayerError,
      /'4' \(SumPool2d\).*IF neurons after every synaptic node/,
    );
  },
});

/** Write an HDF5 file by hand (h5wasm) for the malformed-file cases. */
async function handMade(path: string, build: (f: InstanceType<typeof h5wasm.File>) => void): Promise<void> {
  await hdf5Ready();
  const f = new h5wasm.File(path, "w");
  try {
    build(f);
  } finally {
    f.close();
  }
}

Deno.test("NIR io: malformed files are refused with errors naming the file and the node", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const str = (
      g: InstanceType<typeof h5wasm.Group>,
      name: string,
      v: string | string[],
      shape?: number[],
    ) => g.create_dataset({ name, data: v, dtype: "S", shape });
    const graph = (f: InstanceType<typeof h5wasm.File>, edges: string[]) => {
      const node = f.create_group("node");
      str(node, "type", "NIRGraph");
      str(node, "edges", edges, [edges.length / 2, 2]);
      return node.create_group("nodes");
    };
    const cases: [string, (f: InstanceType<typeof h5wasm.File>) => void, RegExp][] = [
      ["no_node.nir", (f) => str(f, "version", "1.0.7"), /not a NIR file \(no '\/node' group\)/],
      ["no_type.nir", (f) => {
        graph(f, []).create_group("a").create_dataset({ name: "shape", data: BigInt64Array.of(3n) });
      }, /NIR node 'a' has no 'type' string/],
      [
        "unknown.nir",
        (f) => str(graph(f, []).create_group("x"), "type", "Quux"),
        /node 'x' has unknown type 'Quux'/,
      ],
      ["if_field.nir", (f) => {
        const g = graph(f, []).create_group("neurons");
        str(g, "type", "IF");
        g.create_dataset({ name: "r", data: new Float32Array(3), shape: [3] });
      }, /NIR node 'neurons' \(IF\): field 'v_threshold' is missing/],
      ["edge.nir", (f) => {
        const nodes = graph(f, ["in", "ghost"]);
        const g = nodes.create_group("in");
        str(g, "type", "Input");
        g.create_dataset({ name: "shape", data: BigInt64Array.of(3n) });
      }, /edge in → ghost names no node 'ghost'/],
      ["affine.nir", (f) => {
        const g = graph(f, []).create_group("fc");
        str(g, "type", "Affine");
        g.create_dataset({ name: "weight", data: new Float32Array(6), shape: [2, 3] });
        g.create_dataset({ name: "bias", data: new Float32Array(3), shape: [3] });
      }, /NIR node 'fc' \(Affine\): bias must have 2 elements/],
    ];
    for (const [name, build, re] of cases) {
      const path = `${dir}/${name}`;
      await handMade(path, build);
      const err = await assertRejects(() => readNir(path), ModelFormatError, re);
      assertTrue(err.message.startsWith(path), err.message);
    }
    await Deno.writeTextFile(`${dir}/text.nir`, "not hdf5");
    await assertRejects(() => readNir(`${dir}/text.nir`), ModelFormatError, /not an HDF5 file/);
    // Writing: names HDF5 cannot store and dangling edges are refused before anything is written.
    const bad = everyKind();
    bad.nodes["a/b"] = bad.nodes.lin;
    await assertRejects(() => writeNir(`${dir}/bad.nir`, bad), ModelFormatError, /node name 'a\/b'/);
    const dangling = { ...everyKind(), edges: [["input", "nowhere"]] as [string, string][] };
    await assertRejects(
      () => writeNir(`${dir}/bad.nir`, dangling),
      ModelFormatError,
      /names no node 'nowhere'/,
    );
    assertEquals([...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("bad")).length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
