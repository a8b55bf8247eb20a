/**
 * Sharded runs over many machines: what one shard of `snntoolbox run CONFIG
 * --shard I/N` records, and `snntoolbox merge`, which turns the records of
 * all `N` shards into the result, logs and report of one unsharded run.
 *
 * A shard logs into `<log_dir_of_current_run>/shard-<I>-of-<N>/` (its
 * `accuracy.txt` and `log_vars/`, per swept value under `sweep/`) and, last,
 * writes `shard.json` there: the shard's place, the batches and samples it
 * simulated, its {@linkcode SimulationResult}s with their tallies, what the
 * stages before the simulation reported, and the experiment's identity —
 * the resolved configuration without `[paths]`, and SHA-256 digests of the
 * parsed model (layer types and weights) and of the data (x_test, y_test,
 * x_norm) — with its digest, the fingerprint. The file carries a SHA-256
 * checksum of its content.
 *
 * Merging refuses, with one error naming the folder, a shard that is
 * missing (or did not finish), given twice, corrupt, or from another
 * experiment; it writes nothing before every shard has been checked.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { LayersModel } from "../../deps.ts";
import type { ToolboxConfig } from "../config/types.ts";
import { ShardError, SnnToolboxError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import type { NDArray } from "../io/ndarray.ts";
import { baseName, dirName, joinPath } from "../io/paths.ts";
import type { SnnStagesResult } from "./snn_stages.ts";
import { type SweepResult, writeReport } from "../simulation/report.ts";
import type { SimulationResult } from "../simulation/run.ts";
import {
  mergeResults,
  shardBatches,
  shardDirName,
  type ShardSelection,
  type ShardSpec,
  writeMergedRunLogs,
} from "../simulation/shards.ts";
import { VERSION } from "../version.ts";
import type { AccuracyReport, PipelineResult } from "./run.ts";

/** The name of a shard's record file inside its folder. */
export const SHARD_FILE = "shard.json";

const FORMAT = "snntoolbox-shard";
const FORMAT_VERSION = 1;
const SHARD_DIR = /^shard-(\d+)-of-(\d+)$/;

/** What makes two shards parts of the same experiment. */
export interface ExperimentIdentity {
  /** Toolbox version that simulated the shard. */
  toolbox: string;
  /** The resolved configuration, `[paths]` left out (locations may differ between machines). */
  config: Record<string, Record<string, string>>;
  /** SHA-256 (hex) of the parsed model: every layer's class and weights (shapes and values). */
  model: string;
  /** SHA-256 (hex) of the test set (x_test, y_test) and the normalization set (x_norm, when loaded). */
  dataset: string;
}

/** The data a run reads, as the pipeline loaded it. */
export interface ExperimentData {
  /** Test inputs (in the parsed model's layout). */
  xTest?: NDArray;
  /** Test labels. */
  yTest?: NDArray;
  /** Normalization inputs. */
  xNorm?: NDArray;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** The identity of the experiment `config` runs with `model` on `data` (see {@linkcode ExperimentIdentity}). */
export function experimentIdentity(
  config: ToolboxConfig,
  model: LayersModel,
  data: ExperimentData,
): ExperimentIdentity {
  const sections = Object.fromEntries(
    config.sections().filter((s) => s !== "paths").map((s) => [s, config.items(s)]),
  );
  const m = createHash("sha256");
  for (const layer of model.layers) {
    m.update(`${layer.getClassName()}\n`);
    for (const w of layer.getWeights()) {
      m.update(`${w.dtype}[${w.shape.join(",")}]\n`);
      m.update(bytesOf(w.dataSync()));
    }
  }
  const d = createHash("sha256");
  for (const [name, a] of Object.entries(data)) {
    if (!a) continue;
    d.update(`${name} ${a.dtype}[${a.shape.join(",")}]\n`);
    d.update(bytesOf(a.data as ArrayBufferView));
  }
  return { toolbox: VERSION, config: sections, model: m.digest("hex"), dataset: d.digest("hex") };
}

/** The fingerprint of an identity: SHA-256 (hex) of its JSON. */
export function identityFingerprint(identity: ExperimentIdentity): string {
  return createHash("sha256").update(JSON.stringify(identity)).digest("hex");
}

/** What one shard recorded in `shard.json`. */
export interface ShardRecord {
  /** The shard's place among all shards. */
  shard: ShardSpec;
  /** {@linkcode identityFingerprint} of `identity`: equal for all shards of one experiment. */
  fingerprint: string;
  /** The experiment this shard belongs to. */
  identity: ExperimentIdentity;
  /** The batches and samples this shard simulated. */
  selection: ShardSelection;
  /** What the stages before the simulation reported (the same on every shard). */
  pipeline: {
    /** Stages run (`simulate` only on a shard with samples). */
    stages: string[];
    /** Input model accuracy (`evaluate_ann`). */
    annAccuracy: AccuracyReport | null;
    /** Parsed model accuracy. */
    parsedAccuracy: AccuracyReport | null;
    /** The parsed model written. */
    parsedModelPath: string | null;
    /** Normalization scale factors. */
    scaleFactors: Record<string, number> | null;
    /** MACs of the ANN per sample. */
    macs: number | null;
    /** Files the stages before the simulation wrote (normalization factors). */
    files: string[];
  };
  /** `[output] plot_vars` of the report. */
  plotVars: string[];
  /** The parameter sweep, when one ran (its `accuracies` are this shard's). */
  sweep: SweepResult | null;
  /** One simulation run per swept value: its log folder relative to the shard's folder, and its result. */
  runs: { dir: string; result: SimulationResult }[];
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The JSON form of a result: typed arrays as arrays, `files` left out (NaN becomes null). */
function encodeResult(r: SimulationResult): unknown {
  const { files: _files, ...rest } = r;
  return { ...rest, firstInput: { data: Array.from(r.firstInput.data), shape: r.firstInput.shape } };
}

function decodeResult(o: SimulationResult): SimulationResult {
  const nan = (v: number | null) => (v === null ? NaN : v);
  return {
    ...o,
    correlationByLayer: o.correlationByLayer.map((c) => ({
      layer: c.layer,
      correlation: nan(c.correlation),
    })),
    firstInput: { data: Float32Array.from(o.firstInput.data), shape: o.firstInput.shape },
    files: [],
    tallies: { ...o.tallies, correlations: o.tallies.correlations.map((l) => l.map(nan)) },
  };
}

/** The folder shard `spec` of the run logging to `logDir` writes to. */
export function shardFolder(logDir: string, spec: ShardSpec): string {
  return joinPath(logDir, shardDirName(spec));
}

/** Remove a shard's old record before it runs again (so a failed rerun leaves no stale, finished-looking record). */
export async function clearShardRecord(logDir: string, spec: ShardSpec): Promise<void> {
  try {
    await Deno.remove(joinPath(shardFolder(logDir, spec), SHARD_FILE));
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** Inputs of {@linkcode shardRecord}. */
export interface ShardRecordInput {
  /** The shard. */
  shard: ShardSpec;
  /** The run's log folder (the shard logged into its `shard-<I>-of-<N>` folder). */
  logDir: string;
  /** The experiment's identity. */
  identity: ExperimentIdentity;
  /** The shard's selection. */
  selection: ShardSelection;
  /** The pipeline's result on this shard. */
  result: PipelineResult;
  /** `[output] plot_vars`. */
  plotVars: string[];
}

/** The record of a finished shard. */
export function shardRecord(input: ShardRecordInput): ShardRecord {
  const { result } = input;
  const snn: SnnStagesResult | undefined = result.snn;
  const folder = shardFolder(input.logDir, input.shard);
  const inFolder = (f: string) => f === folder || f.startsWith(`${folder}/`);
  return {
    shard: input.shard,
    fingerprint: identityFingerprint(input.identity),
    identity: input.identity,
    selection: input.selection,
    pipeline: {
      stages: result.stages,
      annAccuracy: result.annAccuracy ?? null,
      parsedAccuracy: result.parsedAccuracy ?? null,
      parsedModelPath: result.parsedModelPath ?? null,
      scaleFactors: result.scaleFactors ?? null,
      macs: snn?.macs ?? null,
      files: (snn?.files ?? []).filter((f) => !inFolder(f)),
    },
    plotVars: input.plotVars,
    sweep: snn?.sweep ?? null,
    runs: (snn?.simulations ?? []).map((s) => ({
      dir: s.logDir === folder ? "" : s.logDir.slice(folder.length + 1),
      result: s.result,
    })),
  };
}

/** Write `record` as `<shard folder>/shard.json` (atomically, with a checksum); returns the file. */
export async function writeShardRecord(logDir: string, record: ShardRecord): Promise<string> {
  const folder = shardFolder(logDir, record.shard);
  await Deno.mkdir(folder, { recursive: true });
  const body = JSON.stringify({
    ...record,
    runs: record.runs.map((r) => ({ ...r, result: encodeResult(r.result) })),
  });
  const file = joinPath(folder, SHARD_FILE);
  await writeFileAtomic(
    file,
    `{"format":"${FORMAT}","formatVersion":${FORMAT_VERSION},"sha256":"${sha256(body)}","body":${body}}\n`,
  );
  return file;
}

function corrupt(file: string, why: string): ShardError {
  return new ShardError(`${file} is corrupt: ${why}; rerun that shard`, { file });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Read and check the record of the shard in `folder`. */
export async function readShardRecord(folder: string): Promise<ShardRecord> {
  const file = joinPath(folder, SHARD_FILE);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new ShardError(
        `${folder}: no ${SHARD_FILE}: this shard did not finish (or was not run); run it, then merge again`,
        { file, cause: err },
      );
    }
    throw new ShardError(`${file}: cannot read: ${err instanceof Error ? err.message : err}`, {
      file,
      cause: err,
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw corrupt(file, `not valid JSON (${err instanceof Error ? err.message : err})`);
  }
  if (!isObject(doc) || doc.format !== FORMAT || !isObject(doc.body)) {
    throw corrupt(file, `not a ${FORMAT} record`);
  }
  if (doc.formatVersion !== FORMAT_VERSION) {
    throw new ShardError(
      `${file}: record format ${doc.formatVersion}, this toolbox reads format ${FORMAT_VERSION}; merge with the ` +
        "toolbox version that ran the shards",
      { file },
    );
  }
  if (doc.sha256 !== sha256(JSON.stringify(doc.body))) {
    throw corrupt(file, "its checksum does not match its content");
  }
  const body = doc.body as unknown as ShardRecord;
  const spec = body.shard;
  if (
    !isObject(spec) || !Number.isSafeInteger(spec.index) || !Number.isSafeInteger(spec.count) ||
    spec.index < 0 || spec.index >= spec.count || !Array.isArray(body.runs) || !isObject(body.selection) ||
    !isObject(body.identity) || typeof body.fingerprint !== "string"
  ) {
    throw corrupt(file, "fields are missing or out of range");
  }
  return { ...body, runs: body.runs.map((r) => ({ dir: r.dir, result: decodeResult(r.result) })) };
}

async function stat(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new ShardError(`${path}: ${err instanceof Error ? err.message : err}`, { file: path, cause: err });
  }
}

/**
 * The shard folders `paths` name: a shard folder (`shard-<I>-of-<N>` or any
 * folder holding a `shard.json`), its `shard.json`, or a folder holding
 * shard folders (the run's log folder).
 */
export async function shardFolders(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const info = await stat(p);
    if (!info) throw new ShardError(`${p}: no such shard folder`, { file: p });
    if (info.isFile && baseName(p) === SHARD_FILE) {
      out.push(p.slice(0, -SHARD_FILE.length - 1) || ".");
      continue;
    }
    if (!info.isDirectory) throw new ShardError(`${p}: not a shard folder`, { file: p });
    if (SHARD_DIR.test(baseName(p.replace(/[\\/]+$/, ""))) || (await stat(joinPath(p, SHARD_FILE)))?.isFile) {
      out.push(p);
      continue;
    }
    const subs: [number, string][] = [];
    for await (const e of Deno.readDir(p)) {
      const m = SHARD_DIR.exec(e.name);
      if (m && e.isDirectory) subs.push([Number(m[1]), joinPath(p, e.name)]);
    }
    if (subs.length === 0) {
      throw new ShardError(`${p}: holds no ${SHARD_FILE} and no shard-<I>-of-<N> folders`, { file: p });
    }
    out.push(...subs.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1])).map(([, f]) => f));
  }
  return out;
}

/** The first difference between two identities, for an error message. */
function identityDifference(a: ExperimentIdentity, b: ExperimentIdentity): string {
  if (a.toolbox !== b.toolbox) return `toolbox version ${b.toolbox} vs ${a.toolbox}`;
  if (a.model !== b.model) return "the model (its layers or weights differ)";
  if (a.dataset !== b.dataset) return "the data (x_test, y_test or x_norm differ)";
  const sections = [...new Set([...Object.keys(a.config), ...Object.keys(b.config)])];
  for (const s of sections) {
    const ka = a.config[s] ?? {}, kb = b.config[s] ?? {};
    for (const k of new Set([...Object.keys(ka), ...Object.keys(kb)])) {
      if (ka[k] !== kb[k]) return `[${s}] ${k} = ${kb[k] ?? "(unset)"} vs ${ka[k] ?? "(unset)"}`;
    }
  }
  return "the fingerprint";
}

/** Check that `shards` are exactly the shards 0 … N−1 of one experiment, each once. */
function checkComplete(shards: { folder: string; record: ShardRecord }[]): void {
  const [first] = shards;
  for (const s of shards.slice(1)) {
    if (s.record.fingerprint !== first.record.fingerprint) {
      throw new ShardError(
        `${s.folder} is a shard of another experiment than ${first.folder}: ${
          identityDifference(first.record.identity, s.record.identity)
        }`,
        { file: s.folder },
      );
    }
    if (s.record.shard.count !== first.record.shard.count) {
      throw new ShardError(
        `${s.folder} is shard ${s.record.shard.index} of ${s.record.shard.count}, but ${first.folder} is ` +
          `shard ${first.record.shard.index} of ${first.record.shard.count}: shards of differently split runs`,
        { file: s.folder },
      );
    }
  }
  const count = first.record.shard.count;
  const byIndex = new Map<number, string>();
  for (const s of shards) {
    const seen = byIndex.get(s.record.shard.index);
    if (seen !== undefined) {
      throw new ShardError(
        `shard ${s.record.shard.index} of ${count} is given twice: ${seen} and ${s.folder}`,
        { file: s.folder },
      );
    }
    byIndex.set(s.record.shard.index, s.folder);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length) {
    throw new ShardError(
      `shard${missing.length > 1 ? "s" : ""} ${missing.join(", ")} of ${count} ${
        missing.length > 1 ? "are" : "is"
      } missing (have ${[...byIndex.keys()].sort((a, b) => a - b).join(", ")}); run ${
        missing.length > 1 ? "them" : "it"
      } (folder ${shardDirName({ index: missing[0], count })}) and merge all ${count}`,
    );
  }
  for (const s of shards) {
    const sel = s.record.selection;
    const [firstBatch, endBatch] = shardBatches(sel.numBatches, s.record.shard);
    const samples = (endBatch - firstBatch) * sel.batchSize;
    const simulated = s.record.runs.map((r) => r.result.tallies.sampleIndices);
    if (
      sel.numBatches !== first.record.selection.numBatches ||
      sel.batchSize !== first.record.selection.batchSize ||
      sel.firstBatch !== firstBatch || sel.endBatch !== endBatch || sel.sampleIndices.length !== samples ||
      simulated.some((idx) => idx.join() !== sel.sampleIndices.join()) ||
      (samples > 0) !== (s.record.runs.length > 0)
    ) {
      throw corrupt(joinPath(s.folder, SHARD_FILE), "its batches do not match its place among the shards");
    }
  }
}

/** Options of {@linkcode mergeShards}. */
export interface MergeOptions {
  /** Folder to write the merged logs and report to (default: the folder holding the shard folders). */
  out?: string;
}

/** What {@linkcode mergeShards} did. */
export interface MergeResult {
  /** Where the merged logs and report were written. */
  outDir: string;
  /** The shard folders merged, in shard order. */
  shards: string[];
  /** The result of the whole experiment, as `runPipeline` returns it for an unsharded run. */
  result: PipelineResult;
}

function parentOf(folder: string): string {
  return dirName(folder.replace(/[\\/]+$/, ""));
}

/**
 * Merge the shard results `paths` name (shard folders, or the run's log
 * folder holding them) into one run's result: `accuracy.txt`, `log_vars/`,
 * the plots and `report.html` in the output folder, and the pipeline result
 * an unsharded run returns.
 */
export async function mergeShards(
  paths: readonly string[],
  options: MergeOptions = {},
): Promise<MergeResult> {
  if (paths.length === 0) {
    throw new ShardError("nothing to merge: give the shard folders or the run's log folder");
  }
  const folders = await shardFolders(paths);
  const shards = [];
  for (const folder of folders) shards.push({ folder, record: await readShardRecord(folder) });
  checkComplete(shards);
  shards.sort((a, b) => a.record.shard.index - b.record.shard.index);
  const parents = new Set(shards.map((s) => parentOf(s.folder)));
  if (options.out === undefined && parents.size > 1) {
    throw new ShardError(
      `the shard folders are in different folders (${
        [...parents].join(", ")
      }); say where to write with --out`,
    );
  }
  const outDir = options.out ?? [...parents][0];
  const withRuns = shards.filter((s) => s.record.runs.length > 0);
  const ref = withRuns[0].record;
  if (withRuns.some((s) => s.record.runs.length !== ref.runs.length)) {
    throw corrupt(
      joinPath(withRuns[0].folder, SHARD_FILE),
      "it holds another number of runs than the others",
    );
  }
  // Check every batch log exists before writing anything.
  for (const s of withRuns) {
    for (const run of s.record.runs) {
      const batches = run.result.numSamples / run.result.tallies.batchSize;
      for (let b = 0; b < batches; b++) {
        const f = joinPath(joinPath(s.folder, run.dir || "."), `log_vars/${b}.npz`);
        if (!(await stat(f))?.isFile) {
          throw new ShardError(`${f}: missing batch log of ${s.folder}; rerun that shard`, { file: f });
        }
      }
    }
  }
  await Deno.mkdir(outDir, { recursive: true });
  const files = [...ref.pipeline.files];
  const simulations: { logDir: string; result: SimulationResult }[] = [];
  for (let r = 0; r < ref.runs.length; r++) {
    const parts = withRuns.map((s) => ({
      dir: runFolder(s.folder, s.record.runs[r].dir),
      result: s.record.runs[r].result,
    }));
    let merged: SimulationResult;
    try {
      merged = mergeResults(parts.map((p) => p.result));
    } catch (err) {
      if (!(err instanceof SnnToolboxError)) throw err;
      throw new ShardError(`${parts.map((p) => p.dir).join(", ")}: ${err.message}`, { cause: err });
    }
    const logDir = runFolder(outDir, ref.runs[r].dir);
    merged.files = await writeMergedRunLogs(parts, merged, logDir);
    files.push(...merged.files);
    simulations.push({ logDir, result: merged });
  }
  const last = simulations[simulations.length - 1].result;
  const sweep: SweepResult | null = ref.sweep
    ? { ...ref.sweep, accuracies: simulations.map((s) => s.result.snnAccuracy), numSamples: last.numSamples }
    : null;
  const p = ref.pipeline;
  files.push(
    ...await writeReport(outDir, last, {
      plotVars: ref.plotVars,
      sweep: sweep ?? undefined,
      scaleFactors: p.scaleFactors ?? undefined,
    }),
  );
  const snn: SnnStagesResult = {
    snnAccuracy: last.snnAccuracy,
    snnAccuracyByTime: last.snnAccuracyByTime,
    correlationByLayer: Object.fromEntries(last.correlationByLayer.map((c) => [c.layer, c.correlation])),
    annAccuracy: last.annAccuracy,
    sops: last.sops,
    macs: p.macs ?? last.macs,
    scaleFactors: p.scaleFactors,
    sweep,
    simulation: last,
    simulations,
    files,
  };
  const result: PipelineResult = { stages: p.stages, simulation: last, snn };
  if (p.annAccuracy) result.annAccuracy = p.annAccuracy;
  if (p.parsedAccuracy) result.parsedAccuracy = p.parsedAccuracy;
  if (p.parsedModelPath !== null) result.parsedModelPath = p.parsedModelPath;
  if (p.scaleFactors) result.scaleFactors = p.scaleFactors;
  return { outDir, shards: shards.map((s) => s.folder), result };
}

/** `dir` joined with a run's relative folder (`""` for the run's own folder). */
function runFolder(dir: string, rel: string): string {
  return rel ? joinPath(dir, rel) : dir;
}
