/**
 * The stages after parsing, as `snntoolbox run` calls them: `[tools]
 * normalize` (data-based weight normalization), `convert` (build the
 * spiking network for the INI simulator) and `simulate` (run it on the test
 * set, measure, log, plot), with `[parameter_sweep]`.
 *
 * @module
 */
import { type LayersModel, tf } from "../../deps.ts";
import type { ToolboxConfig } from "../config/types.ts";
import { ConfigError, NotAvailableError, SnnToolboxError } from "../errors.ts";
import type { NDArray } from "../io/ndarray.ts";
import { joinPath } from "../io/paths.ts";
import { normalizationOptionsFromConfig, normalizeParameters } from "../conversion/normalize.ts";
import { parallelModel } from "../parsing/evaluate.ts";
import { workerCount } from "../backend/workers.ts";
import { exportNir } from "../conversion/nir.ts";
import {
  type CellOptions,
  literalStrings,
  type SimulationOptions,
  simulationOptionsFromConfig,
} from "../simulation/options.ts";
import { SpikingNetwork } from "../simulation/network.ts";
import { type SweepResult, writeReport } from "../simulation/report.ts";
import { type RunOptions, runSimulation, type SimulationResult } from "../simulation/run.ts";
import { runParameterSweep, sweepOptionsFromConfig } from "../simulation/sweep.ts";
import { type SimulationWorkers, usefulWorkers } from "../simulation/parallel.ts";
import { shardDirName, shardOptions, shardSelection, type ShardSpec } from "../simulation/shards.ts";

/** Inputs of {@linkcode runSnnStages}. */
export interface SnnStagesInput {
  /** The parsed model (channels-last); it is not modified (normalization works on a copy). */
  parsedModel: LayersModel;
  /** The resolved experiment configuration. */
  config: ToolboxConfig;
  /** Test set (`x_test` NHWC, `y_test` one-hot or indices) and normalization set (`x_norm`). */
  dataset: { xTest?: NDArray; yTest?: NDArray; xNorm?: NDArray };
  /** Log directory of this run (`[paths] log_dir_of_current_run`). */
  logDir: string;
  /** Progress of the simulation: `(stepsDone, stepsTotal)` over all batches and sweep runs. */
  progress?: (done: number, total: number) => void;
  /**
   * Data-parallel workers (WASM and CPU backends) of the normalization's
   * activation passes and the simulation: a count, or `auto` (the default:
   * `SNNTOOLBOX_WORKERS`, else one per core when the work pays for them).
   */
  workers?: number | "auto";
  /**
   * Simulate only this shard of the test samples (`shards.ts`), logging into
   * `<logDir>/shard-<I>-of-<N>/`; no report is written (`snntoolbox merge` writes it).
   */
  shard?: ShardSpec;
  /** Write the normalized, converted network as a NIR graph to this path. */
  exportNir?: string;
  /** Whether to normalize; default `[tools] normalize` (a NIR graph comes normalized). */
  normalize?: boolean;
  /** Neuron parameters replacing the configuration's `[cell]` ones (a NIR graph's own). */
  cell?: Partial<CellOptions>;
  /**
   * Simulation workers started beforehand (see {@linkcode simulationWorkerCount}),
   * used instead of starting them at the simulation; the caller closes them.
   */
  simulationWorkers?: SimulationWorkers;
}

/** Results of {@linkcode runSnnStages} (`null` where the stage did not run). */
export interface SnnStagesResult {
  /** SNN top-1 accuracy at the end of the simulation. */
  snnAccuracy: number | null;
  /** SNN top-1 accuracy at every time step. */
  snnAccuracyByTime: number[] | null;
  /** Spike-rate / activation correlation by spiking layer name. */
  correlationByLayer: Record<string, number> | null;
  /** ANN top-1 accuracy on the simulated samples. */
  annAccuracy: number | null;
  /** Synaptic operations of the SNN per sample. */
  sops: number | null;
  /** Multiply-accumulates of the ANN per sample. */
  macs: number;
  /** Scale factors of the normalization (when it ran). */
  scaleFactors: Record<string, number> | null;
  /** The parameter sweep, when one ran. */
  sweep: SweepResult | null;
  /** The full measurements of the (last) simulation run. */
  simulation: SimulationResult | null;
  /** Every simulation run (one per swept value) and the folder it logged to. */
  simulations: { logDir: string; result: SimulationResult }[];
  /** Files written. */
  files: string[];
  /** The NIR export, when one was asked for: its path and the differences it states. */
  nir?: { path: string; warnings: string[] };
}

/** A copy of `model` with its own weights (so normalization leaves the caller's model as it is). */
export async function cloneModel(model: LayersModel): Promise<LayersModel> {
  try {
    const topology = model.toJSON(undefined, false) as tf.io.ModelJSON["modelTopology"];
    const clone = await tf.models.modelFromJSON({ modelTopology: topology } as tf.io.ModelJSON);
    const weights = model.getWeights();
    clone.setWeights(weights);
    return clone;
  } catch (err) {
    throw new SnnToolboxError(
      `could not copy the parsed model '${model.name}' for normalization: ${
        err instanceof Error ? err.message : err
      }`,
      { cause: err },
    );
  }
}

function tool(config: ToolboxConfig, key: string): boolean {
  return config.hasOption("tools", key) ? config.getBoolean("tools", key) : true;
}

function checkSimulator(config: ToolboxConfig): void {
  const sim = config.get("simulation", "simulator").trim();
  if (sim !== "INI") {
    throw new NotAvailableError(
      `[simulation] simulator = ${sim} is not available; this toolbox simulates with 'INI'`,
    );
  }
  const experimental: [string, string][] = [
    ["cell", "payloads"],
    ["cell", "bias_relaxation"],
    ["normalization", "online_normalization"],
  ];
  for (const [section, key] of experimental) {
    if (config.hasOption(section, key) && config.getBoolean(section, key)) {
      throw new NotAvailableError(
        `[${section}] ${key} = True is not available in this INI simulator; set it to False`,
      );
    }
  }
  const code = config.get("conversion", "spike_code").trim();
  if (code !== "temporal_mean_rate") {
    throw new NotAvailableError(
      `[conversion] spike_code = ${code} is not available; the INI simulator here implements 'temporal_mean_rate'`,
    );
  }
}

/** Export the normalized model as the simulator runs it (see lib/conversion/nir.ts). */
async function exportNirOf(
  model: LayersModel,
  options: SimulationOptions,
  config: ToolboxConfig,
  path: string,
  normalized: boolean,
): Promise<{ path: string; warnings: string[] }> {
  const { warnings } = await exportNir(model, {
    cell: options.cell,
    dt: options.dt,
    duration: options.duration,
    max2avgPool: options.max2avgPool,
    poissonInput: options.poissonInput,
    metadata: {
      source_model: config.get("paths", "filename_ann"),
      normalized: normalized ? "yes" : "no",
    },
    source: joinPath(config.get("paths", "path_wd"), config.get("paths", "filename_ann")),
  }, path);
  return { path, warnings };
}

/**
 * Data-parallel workers for simulating the samples `options` select on a
 * network of `macs` multiply-accumulates per sample and step: `requested`
 * (or `auto`, see `workerCount`), as many as the run can use.
 */
function plannedWorkers(options: SimulationOptions, macs: number, requested?: number | "auto"): number {
  const samples = options.sampleIdxsToTest.length || options.numToTest;
  const steps = Math.floor(options.duration / options.dt);
  const batch = Math.max(1, Math.min(options.batchSize, samples));
  return usefulWorkers(
    workerCount(samples * steps * macs, requested),
    options,
    batch,
    Math.floor(samples / batch),
  );
}

/**
 * The number of data-parallel workers {@linkcode runSnnStages} simulates
 * `model` with (the parsed model, normalized or not: its structure decides)
 * on a test set of `numSamples` samples, for `shard` when given — so that a
 * caller can start them ahead ({@linkcode SnnStagesInput.simulationWorkers}).
 */
export function simulationWorkerCount(
  model: LayersModel,
  config: ToolboxConfig,
  numSamples: number,
  requested?: number | "auto",
  shard?: ShardSpec,
): number {
  const options = simulationOptionsFromConfig(config);
  const selection = shard && shardSelection(numSamples, options, shard);
  if (selection && selection.sampleIndices.length === 0) return 1;
  const net = SpikingNetwork.fromModel(model, options);
  const macs = net.macs;
  net.dispose();
  return plannedWorkers(selection ? shardOptions(options, selection) : options, macs, requested);
}

/**
 * Run normalization, conversion and simulation as configured (see the
 * module docs). A pure function of its inputs apart from the files it
 * writes under `logDir`.
 */
export async function runSnnStages(input: SnnStagesInput): Promise<SnnStagesResult> {
  const { config, logDir, dataset } = input;
  const files: string[] = [];
  let model = input.parsedModel;
  let scaleFactors: Record<string, number> | null = null;
  const simulate = tool(config, "simulate");
  const convert = tool(config, "convert");
  if (convert || simulate) checkSimulator(config);
  const configured = simulationOptionsFromConfig(config);
  const options = input.cell ? { ...configured, cell: { ...configured.cell, ...input.cell } } : configured;

  const normalize = input.normalize ?? tool(config, "normalize");
  if (normalize) {
    model = await cloneModel(model);
    const normOptions = normalizationOptionsFromConfig(config, logDir);
    // Each layer with parameters costs one pass over the normalization set (up to that layer).
    const passes = model.layers.filter((l) => l.weights.length > 0).length / 2;
    const workers = dataset.xNorm
      ? await parallelModel(model, dataset.xNorm.shape[0] ?? 0, passes, input.workers)
      : undefined;
    const norm = await normalizeParameters(model, dataset.xNorm, { ...normOptions, workers })
      .finally(() => workers?.close());
    scaleFactors = norm.scaleFactors;
    if (norm.file) files.push(norm.file);
  }
  try {
    // Conversion: building the network validates every layer and gives the ANN's MACs.
    const net = SpikingNetwork.fromModel(model, options);
    const macs = net.macs;
    net.dispose();
    const nir = input.exportNir
      ? await exportNirOf(model, options, config, input.exportNir, normalize)
      : undefined;
    if (nir) files.push(nir.path);
    const empty: SnnStagesResult = {
      snnAccuracy: null,
      snnAccuracyByTime: null,
      correlationByLayer: null,
      annAccuracy: null,
      sops: null,
      macs,
      scaleFactors,
      sweep: null,
      simulation: null,
      simulations: [],
      files,
      ...(nir ? { nir } : {}),
    };
    if (!simulate) return empty;
    if (!dataset.xTest || !dataset.yTest) {
      throw new ConfigError("[tools] simulate is on but no test set (x_test.npz, y_test.npz) was given");
    }
    const data = { x: dataset.xTest, y: dataset.yTest };
    const shard = input.shard && shardSelection(dataset.xTest.shape[0] ?? 0, options, input.shard);
    if (shard && shard.sampleIndices.length === 0) return empty; // more shards than batches
    const simOptions = shard ? shardOptions(options, shard) : options;
    const simDir = input.shard ? `${logDir}/${shardDirName(input.shard)}` : logDir;
    const logVars = literalStrings(config.getLiteral("output", "log_vars"), "[output] log_vars");
    const plotVars = literalStrings(config.getLiteral("output", "plot_vars"), "[output] plot_vars");
    const sweepOpts = sweepOptionsFromConfig(config);
    const simulationWorkers = input.simulationWorkers ?? plannedWorkers(simOptions, macs, input.workers);
    const runs = sweepOpts.values.length > 1 ? sweepOpts.values.length : 1;
    const runOptions = (i: number, dir: string): RunOptions => ({
      logDir: dir,
      logVars,
      plotVars,
      workers: simulationWorkers,
      progress: input.progress ? (done, total) => input.progress!(i * total + done, runs * total) : undefined,
    });
    let sim: SimulationResult;
    let sweep: SweepResult | null = null;
    const simulations: SnnStagesResult["simulations"] = [];
    if (runs > 1) {
      const runDir = (i: number) => `${simDir}/sweep/${sweepOpts.paramName}_${sweepOpts.values[i]}`;
      const out = await runParameterSweep(
        model,
        data,
        simOptions,
        sweepOpts,
        (i) => runOptions(i, runDir(i)),
      );
      for (const r of out.runs) files.push(...r.files);
      out.runs.forEach((result, i) => simulations.push({ logDir: runDir(i), result }));
      sim = out.runs[out.runs.length - 1];
      sweep = out.sweep;
    } else {
      await Deno.mkdir(simDir, { recursive: true });
      sim = await runSimulation(model, data, simOptions, runOptions(0, simDir));
      simulations.push({ logDir: simDir, result: sim });
      files.push(...sim.files);
    }
    if (!shard) {
      files.push(
        ...await writeReport(logDir, sim, {
          plotVars,
          sweep: sweep ?? undefined,
          scaleFactors: scaleFactors ?? undefined,
        }),
      );
    }
    return {
      ...empty,
      snnAccuracy: sim.snnAccuracy,
      snnAccuracyByTime: sim.snnAccuracyByTime,
      correlationByLayer: Object.fromEntries(sim.correlationByLayer.map((c) => [c.layer, c.correlation])),
      annAccuracy: sim.annAccuracy,
      sops: sim.sops,
      sweep,
      simulation: sim,
      simulations,
    };
  } finally {
    if (model !== input.parsedModel) model.dispose();
  }
}
