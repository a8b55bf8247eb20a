/**
 * Sample shards of a simulation run, and merging their results.
 *
 * Partition: the samples a run selects (`sample_idxs_to_test`, or the first
 * `num_to_test`) are cut into batches of `batch_size` exactly as an
 * unsharded run cuts them (an incomplete last batch is dropped); shard `I`
 * of `N` (0-based) simulates the contiguous batches
 * `floor(I·B/N) … floor((I+1)·B/N) − 1` of the `B` batches. Batches stay
 * whole, so every sample is simulated with the same batch companions at the
 * same batch position as in the unsharded run (the Poisson input's batch
 * maximum, early stopping and the softmax layer's draws are per batch), and
 * its Poisson input is drawn per sample (`poisson.ts`): a sample's result
 * does not depend on the shard it is in. Shards must reset the network
 * after every batch (`reset_between_nth_sample = 1`, the default).
 *
 * Merging: {@linkcode mergeResults} adds up the shards' counts and
 * concatenates their per-sample values in shard order, which is the
 * unsharded run's order; every figure is then computed from them as
 * `runSimulation` computes it, so the merged result equals the unsharded
 * one (counts are exact integer sums; the mean correlation is re-accumulated
 * from the per-sample coefficients in the same order).
 *
 * @module
 */
import { ConfigError, SnnToolboxError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import type { NDArray } from "../io/ndarray.ts";
import { decodeNpz, encodeNpz } from "../io/npz.ts";
import type { SimulationOptions } from "./options.ts";
import { selectSamples, type SimulationResult } from "./run.ts";
import { accuracyLines, type RunTotals, simulationFigures, type SimulationTallies } from "./tally.ts";

export { accuracyLines };

/** Shard `index` (0-based) of `count`. */
export interface ShardSpec {
  /** 0-based shard index, `0 <= index < count`. */
  index: number;
  /** Number of shards. */
  count: number;
}

/** The batches and samples one shard simulates. */
export interface ShardSelection {
  /** Samples per batch (as the unsharded run uses). */
  batchSize: number;
  /** Batches of the unsharded run. */
  numBatches: number;
  /** First batch of this shard (index into the unsharded run's batches). */
  firstBatch: number;
  /** One past the last batch of this shard. */
  endBatch: number;
  /** Test-set indices of this shard's samples, in simulation order (empty when it has no batch). */
  sampleIndices: number[];
}

/** The name of shard `spec`'s folder inside the run's log folder: `shard-<I>-of-<N>`. */
export function shardDirName(spec: ShardSpec): string {
  return `shard-${spec.index}-of-${spec.count}`;
}

/** Check that `spec` is a valid shard of a run (integers, `0 <= index < count`). */
export function checkShardSpec(spec: ShardSpec): ShardSpec {
  if (!Number.isSafeInteger(spec.count) || spec.count < 1) {
    throw new ConfigError(`the number of shards must be a positive whole number, found ${spec.count}`);
  }
  if (!Number.isSafeInteger(spec.index) || spec.index < 0 || spec.index >= spec.count) {
    throw new ConfigError(
      `shard index ${spec.index} is out of range for ${spec.count} shards (indices are 0-based: 0 to ${
        spec.count - 1
      })`,
    );
  }
  return spec;
}

/** The batches `[firstBatch, endBatch)` shard `spec` takes of `numBatches`. */
export function shardBatches(numBatches: number, spec: ShardSpec): [number, number] {
  return [
    Math.floor((spec.index * numBatches) / spec.count),
    Math.floor(((spec.index + 1) * numBatches) / spec.count),
  ];
}

/** The selection of shard `spec` of a run over a test set of `numAvailable` samples (see the module docs). */
export function shardSelection(
  numAvailable: number,
  options: SimulationOptions,
  spec: ShardSpec,
): ShardSelection {
  checkShardSpec(spec);
  if (options.resetBetweenNthSample !== 1 && spec.count > 1) {
    throw new ConfigError(
      `[simulation] reset_between_nth_sample = ${options.resetBetweenNthSample}: the network state carries ` +
        "over from one batch to the next, so batches cannot be simulated apart; shard the run with " +
        "reset_between_nth_sample = 1",
    );
  }
  const indices = selectSamples(numAvailable, options);
  const batchSize = Math.min(options.batchSize, indices.length);
  const numBatches = Math.floor(indices.length / batchSize);
  const [firstBatch, endBatch] = shardBatches(numBatches, spec);
  return {
    batchSize,
    numBatches,
    firstBatch,
    endBatch,
    sampleIndices: indices.slice(firstBatch * batchSize, endBatch * batchSize),
  };
}

/** Simulation options that simulate exactly `selection`'s samples (it must not be empty). */
export function shardOptions(options: SimulationOptions, selection: ShardSelection): SimulationOptions {
  if (selection.sampleIndices.length === 0) throw new RangeError("shardOptions: the shard has no sample");
  return { ...options, batchSize: selection.batchSize, sampleIdxsToTest: selection.sampleIndices };
}

function sum(parts: number[][]): number[] {
  const out = new Array<number>(parts[0]?.length ?? 0).fill(0);
  for (const p of parts) p.forEach((v, i) => (out[i] += v));
  return out;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Throw unless the runs `parts` simulated the same network for the same steps (so that they can merge). */
function checkMergeable(parts: SimulationResult[]): void {
  const [first] = parts;
  const layers = (r: SimulationResult) => r.correlationByLayer.map((c) => c.layer).join(",");
  for (const r of parts.slice(1)) {
    const what = !sameNumbers(r.times, first.times)
      ? "time steps"
      : r.topK !== first.topK
      ? "top-k"
      : layers(r) !== layers(first)
      ? "spiking layers"
      : r.macs !== first.macs || !sameNumbers(r.tallies.neurons, first.tallies.neurons)
      ? "network"
      : r.tallies.batchSize !== first.tallies.batchSize
      ? "batch size"
      : !sameNumbers(r.histogram.edges, first.histogram.edges)
      ? "histogram bins"
      : undefined;
    if (what) throw new SnnToolboxError(`cannot merge simulation runs with different ${what}`);
  }
}

/**
 * The result of simulating the samples of `parts` (runs of consecutive
 * sample shards, in order) in one run: counts added, per-sample values
 * concatenated, every figure computed as `runSimulation` computes it.
 * `files` is empty (the caller writes the merged files).
 */
export function mergeResults(parts: SimulationResult[]): SimulationResult {
  if (parts.length === 0) throw new RangeError("mergeResults: nothing to merge");
  checkMergeable(parts);
  const first = parts[0];
  const cat = <T>(get: (t: SimulationTallies) => T[]): T[] => parts.flatMap((p) => get(p.tallies));
  const totals: RunTotals = {
    tallies: {
      batchSize: first.tallies.batchSize,
      sampleIndices: cat((t) => t.sampleIndices),
      snnCorrectByTime: sum(parts.map((p) => p.tallies.snnCorrectByTime)),
      snnTopKCorrectByTime: sum(parts.map((p) => p.tallies.snnTopKCorrectByTime)),
      snnTopKCorrect: cat((t) => t.snnTopKCorrect),
      annCorrect: cat((t) => t.annCorrect),
      annTopKCorrect: cat((t) => t.annTopKCorrect),
      correlations: first.tallies.correlations.map((_, l) => parts.flatMap((p) => p.tallies.correlations[l])),
      sopsByTime: sum(parts.map((p) => p.tallies.sopsByTime)),
      spikesByTime: sum(parts.map((p) => p.tallies.spikesByTime)),
      sampleSops: cat((t) => t.sampleSops),
      spikeTotals: sum(parts.map((p) => p.tallies.spikeTotals)),
      neurons: first.tallies.neurons,
    },
    truth: parts.flatMap((p) => p.truth),
    guesses: parts.flatMap((p) => p.guesses),
    histRates: sum(parts.map((p) => p.histogram.rates)),
    histActivations: sum(parts.map((p) => p.histogram.activations)),
  };
  const meta = {
    steps: first.times.length,
    dt: first.times[0],
    topK: first.topK,
    macs: first.macs,
    layers: first.correlationByLayer.map(({ layer }, l) => ({
      name: layer,
      neurons: first.tallies.neurons[l],
    })),
  };
  return { ...simulationFigures(meta, totals), firstInput: first.firstInput, files: [] };
}

/** One shard's run to merge: its result and the folder it wrote its logs to. */
export interface ShardRun {
  /** The shard's log folder of this run (holding `log_vars/<batch>.npz`). */
  dir: string;
  /** What the shard's run measured. */
  result: SimulationResult;
}

/**
 * Write the merged run's `accuracy.txt` and `log_vars/<batch>.npz` into
 * `outDir`: the shards' batch logs renumbered to the unsharded run's batch
 * numbers, with the running ANN errors (`top1err_ann`, `top5err_ann`) over
 * all batches so far. Returns the files written, as `runSimulation` lists
 * them.
 */
export async function writeMergedRunLogs(
  parts: ShardRun[],
  merged: SimulationResult,
  outDir: string,
): Promise<string[]> {
  await Deno.mkdir(`${outDir}/log_vars`, { recursive: true });
  const bs = merged.tallies.batchSize;
  let batch = 0, ann = 0, annK = 0;
  for (const part of parts) {
    const batches = part.result.numSamples / bs;
    for (let b = 0; b < batches; b++, batch++) {
      for (let k = batch * bs; k < (batch + 1) * bs; k++) {
        ann += merged.tallies.annCorrect[k];
        annK += merged.tallies.annTopKCorrect[k];
      }
      const src = `${part.dir}/log_vars/${b}.npz`;
      let arrays: Record<string, NDArray>;
      try {
        arrays = decodeNpz(await Deno.readFile(src), src);
      } catch (err) {
        throw new SnnToolboxError(
          `${src}: cannot read this batch log of the shard (${err instanceof Error ? err.message : err})`,
          { cause: err, file: src },
        );
      }
      const seen = (batch + 1) * bs;
      const f64 = (v: number): NDArray => ({ data: Float64Array.of(v), shape: [], dtype: "float64" });
      if ("top1err_ann" in arrays) arrays.top1err_ann = f64(1 - ann / seen);
      if ("top5err_ann" in arrays) arrays.top5err_ann = f64(1 - annK / seen);
      await writeFileAtomic(`${outDir}/log_vars/${batch}.npz`, encodeNpz(arrays, { compressed: true }));
    }
  }
  await writeFileAtomic(`${outDir}/accuracy.txt`, accuracyLines(merged).join("\n") + "\n");
  return [`${outDir}/accuracy.txt`, `${outDir}/log_vars`];
}
