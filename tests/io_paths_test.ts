/**
 * The shared path helpers of the model libraries (lib/io/paths.ts): folder,
 * name and stem of a path, and the companion-file look-ups (weights beside
 * an architecture) on a real temporary folder.
 */
import { assertEquals, assertRejects } from "./_assert.ts";
import { ModelFormatError } from "../lib/errors.ts";
import {
  baseName,
  dirName,
  existsSync,
  firstFile,
  isAbsolutePath,
  isFile,
  isFileSync,
  joinPath,
  readModelFile,
  readModelTextFile,
  stripExtension,
} from "../lib/io/paths.ts";

Deno.test("baseName / dirName / joinPath: / and \\ separated paths, root and bare names", () => {
  assertEquals(baseName("models/lenet.h5"), "lenet.h5");
  assertEquals(baseName("C:\\models\\lenet.h5"), "lenet.h5");
  assertEquals(baseName("lenet.h5"), "lenet.h5");
  assertEquals(dirName("models/v1/lenet.h5"), "models/v1");
  assertEquals(dirName("C:\\models\\lenet.h5"), "C:\\models");
  assertEquals(dirName("lenet.h5"), ".");
  assertEquals(dirName("/lenet.h5"), "/");
  assertEquals(joinPath("/", "x.bin"), "/x.bin");
  assertEquals(joinPath("out/", "x.bin"), "out/x.bin");
  assertEquals(joinPath("out", "x.bin"), "out/x.bin");
});

Deno.test("joinPath: like Python's os.path.join for an absolute name and an empty folder; one separator", () => {
  assertEquals(joinPath("", "x.bin"), "x.bin");
  assertEquals(joinPath("out", "/data/x.bin"), "/data/x.bin");
  assertEquals(joinPath("out", "C:\\data\\x.bin"), "C:\\data\\x.bin");
  assertEquals(joinPath("out//", "x.bin"), "out/x.bin");
  assertEquals(joinPath("C:\\", "x.bin"), "C:\\x.bin");
  assertEquals(joinPath("out", "sub/x.bin"), "out/sub/x.bin");
  assertEquals([isAbsolutePath("/x"), isAbsolutePath("C:/x"), isAbsolutePath("x/y"), isAbsolutePath("./x")], [
    true,
    true,
    false,
    false,
  ]);
});

Deno.test("stripExtension: the last extension of the name only, or only the listed ones (longest first)", () => {
  assertEquals(stripExtension("models/lenet.h5"), "models/lenet");
  assertEquals(stripExtension("models.v2/lenet"), "models.v2/lenet");
  assertEquals(stripExtension("net.caffemodel.h5", ["h5", "caffemodel.h5"]), "net");
  assertEquals(stripExtension("net.CAFFEMODEL.h5", [".caffemodel.h5"]), "net");
  assertEquals(stripExtension("net.v2", ["h5"]), "net.v2");
  assertEquals(stripExtension("resnet.pth", ["onnx", ".pth", ".pt"]), "resnet");
  assertEquals(stripExtension(".h5", ["h5"]), ".h5");
});

Deno.test("isFile / isFileSync / firstFile: files only, in the order given; existsSync: folders too", async () => {
  const dir = await Deno.makeTempDir({ prefix: "snn-paths-" });
  try {
    await Deno.writeTextFile(`${dir}/b.h5`, "");
    await Deno.writeTextFile(`${dir}/c.h5`, "");
    await Deno.mkdir(`${dir}/a.h5`);
    assertEquals(await isFile(`${dir}/b.h5`), true);
    assertEquals(await isFile(`${dir}/a.h5`), false, "a folder is not a file");
    assertEquals(isFileSync(`${dir}/missing.h5`), false);
    assertEquals(isFileSync(`${dir}/c.h5`), true);
    assertEquals([existsSync(`${dir}/a.h5`), existsSync(`${dir}/c.h5`), existsSync(`${dir}/missing.h5`)], [
      true,
      true,
      false,
    ]);
    assertEquals(
      await firstFile([`${dir}/a.h5`, `${dir}/missing.h5`, `${dir}/c.h5`, `${dir}/b.h5`]),
      `${dir}/c.h5`,
    );
    assertEquals(await firstFile([`${dir}/missing.h5`]), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readModelFile / readModelTextFile: contents, or a ModelFormatError naming the file and what it is", async () => {
  const dir = await Deno.makeTempDir({ prefix: "snn-paths-" });
  try {
    await Deno.writeTextFile(`${dir}/net.prototxt`, "name: 'é'");
    assertEquals(await readModelTextFile(`${dir}/net.prototxt`, "the net"), "name: 'é'");
    assertEquals((await readModelFile(`${dir}/net.prototxt`, "the net")).length, 10);
    const err = await assertRejects(
      () => readModelFile(`${dir}/missing.caffemodel`, "the Caffe weights"),
      ModelFormatError,
      /missing\.caffemodel: cannot read the Caffe weights: /,
    );
    assertEquals((err as ModelFormatError).file, `${dir}/missing.caffemodel`);
    await assertRejects(() => readModelTextFile(dir, "the net"), ModelFormatError, /cannot read the net/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
