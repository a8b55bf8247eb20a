/**
 * Options of the built-in INI simulator (temporal mean rate code), with the
 * Python toolbox's defaults, and adapters from a {@linkcode ToolboxConfig}.
 *
 * @module
 */
import type { PyValue, ToolboxConfig } from "../config/types.ts";
import { ConfigError } from "../errors.ts";

/** The `[cell] reset` strings the toolbox accepts (anything else resets to zero, as in the toolbox). */
export type ResetMode = "Reset by subtraction" | "Reset to zero" | "Reset by modulo";

/** The reset modes, for validation messages. */
export const RESET_MODES: readonly ResetMode[] = ["Reset by subtraction", "Reset to zero", "Reset by modulo"];

/** Integrate-and-fire neuron parameters (`[cell]`). */
export interface CellOptions {
  /** `v_thresh`: firing threshold, also the amplitude of a spike (default 1). */
  vThresh: number;
  /** `tau_refrac`: refractory period in ms; input is ignored while refractory (default 0). */
  tauRefrac: number;
  /** `v_reset`: potential after `Reset to zero` (the toolbox uses 0; default 0). */
  vReset: number;
  /** `reset`: what happens to the membrane potential after a spike. */
  reset: ResetMode;
  /** `leak`: subtract `0.1 · dt` from positive membrane potentials each step (default false). */
  leak: boolean;
}

/** Simulation options (`[simulation]`, `[input]`, `[conversion] max2avg_pool`, `[cell]`). */
export interface SimulationOptions {
  /** `duration` in ms (default 200). */
  duration: number;
  /** `dt`: time step in ms (default 1); `int(duration / dt)` steps are simulated. */
  dt: number;
  /** `batch_size`: samples simulated together (default 1). */
  batchSize: number;
  /** `num_to_test` (default 1); ignored when `sampleIdxsToTest` is not empty. */
  numToTest: number;
  /** `sample_idxs_to_test`: indices of the test samples to simulate (default: the first `numToTest`). */
  sampleIdxsToTest: number[];
  /** `reset_between_nth_sample` (default 1: reset the network after every batch). */
  resetBetweenNthSample: number;
  /** `top_k` (default 1; clipped to the number of classes). */
  topK: number;
  /** `early_stopping`: stop a batch when its input has no events (default false). */
  earlyStopping: boolean;
  /** `[input] poisson_input`: Poisson spike trains instead of analog input currents (default false). */
  poissonInput: boolean;
  /** `[input] input_rate` in Hz for Poisson input (default 1000). */
  inputRate: number;
  /** `[input] num_poisson_events_per_sample` (default -1: unlimited). */
  numPoissonEventsPerSample: number;
  /** `[conversion] max2avg_pool`: simulate max pooling as average pooling (default false). */
  max2avgPool: boolean;
  /** Seed of every random draw (Poisson input, softmax output spikes); default 0. */
  seed: number;
  /** Neuron parameters. */
  cell: CellOptions;
}

/** The toolbox's defaults (`config_defaults`). */
export const DEFAULT_CELL: Readonly<CellOptions> = {
  vThresh: 1,
  tauRefrac: 0,
  vReset: 0,
  reset: "Reset by subtraction",
  leak: false,
};

/** The toolbox's defaults (`config_defaults`) of the simulation options. */
export const DEFAULT_SIMULATION: Readonly<Omit<SimulationOptions, "cell">> = {
  duration: 200,
  dt: 1,
  batchSize: 1,
  numToTest: 1,
  sampleIdxsToTest: [],
  resetBetweenNthSample: 1,
  topK: 1,
  earlyStopping: false,
  poissonInput: false,
  inputRate: 1000,
  numPoissonEventsPerSample: -1,
  max2avgPool: false,
  seed: 0,
};

/** Fill unset fields of `partial` with the toolbox's defaults and validate the values. */
export function resolveSimulationOptions(
  partial: Partial<Omit<SimulationOptions, "cell">> & { cell?: Partial<CellOptions> } = {},
): SimulationOptions {
  const opts: SimulationOptions = {
    ...DEFAULT_SIMULATION,
    ...stripUndefined(partial),
    cell: { ...DEFAULT_CELL, ...stripUndefined(partial.cell ?? {}) },
  };
  const positive: [string, number][] = [
    ["[simulation] duration", opts.duration],
    ["[simulation] dt", opts.dt],
    ["[simulation] batch_size", opts.batchSize],
    ["[simulation] top_k", opts.topK],
    ["[input] input_rate", opts.inputRate],
  ];
  for (const [key, v] of positive) {
    if (!(Number.isFinite(v) && v > 0)) throw new ConfigError(`${key} must be a positive number, found ${v}`);
  }
  if (!Number.isInteger(opts.batchSize)) {
    throw new ConfigError(`[simulation] batch_size must be an integer, found ${opts.batchSize}`);
  }
  if (!(Number.isInteger(opts.numToTest) && opts.numToTest >= 1) && opts.sampleIdxsToTest.length === 0) {
    throw new ConfigError(`[simulation] num_to_test must be a positive integer, found ${opts.numToTest}`);
  }
  if (!(opts.resetBetweenNthSample >= 0)) {
    throw new ConfigError(
      `[simulation] reset_between_nth_sample must be >= 0, found ${opts.resetBetweenNthSample}`,
    );
  }
  if (Math.floor(opts.duration / opts.dt) < 1) {
    throw new ConfigError(
      `[simulation] duration ${opts.duration} is shorter than one time step dt = ${opts.dt}`,
    );
  }
  if (!(Number.isFinite(opts.cell.vThresh) && opts.cell.vThresh > 0)) {
    throw new ConfigError(`[cell] v_thresh must be a positive number, found ${opts.cell.vThresh}`);
  }
  if (!(opts.cell.tauRefrac >= 0)) {
    throw new ConfigError(`[cell] tau_refrac must be >= 0, found ${opts.cell.tauRefrac}`);
  }
  return opts;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Numbers of a Python list/tuple/set literal, e.g. `sample_idxs_to_test = [0, 5]`. */
export function literalNumbers(value: PyValue, what: string): number[] {
  const items = Array.isArray(value)
    ? value
    : typeof value === "object" && value !== null && "kind" in value && value.kind !== "dict"
    ? value.items
    : undefined;
  if (!items) throw new ConfigError(`${what} must be a list of numbers, found ${JSON.stringify(value)}`);
  return items.map((v) => {
    const n = typeof v === "bigint" ? Number(v) : v;
    if (typeof n !== "number") {
      throw new ConfigError(`${what} must hold numbers only, found ${JSON.stringify(v)}`);
    }
    return n;
  });
}

/** Strings of a Python set/list/tuple literal, or the keys of a dict (`log_vars = {}` is an empty dict). */
export function literalStrings(value: PyValue, what: string): string[] {
  if (typeof value === "object" && value !== null && "kind" in value) {
    const items = value.kind === "dict" ? value.entries.map(([k]) => k) : value.items;
    return items.map((v) => {
      if (typeof v !== "string") {
        throw new ConfigError(`${what} must hold strings, found ${JSON.stringify(v)}`);
      }
      return v;
    });
  }
  if (Array.isArray(value)) return literalStrings({ kind: "set", items: value }, what);
  throw new ConfigError(`${what} must be a set of strings, found ${JSON.stringify(value)}`);
}

function resetFromConfig(config: ToolboxConfig): ResetMode {
  const r = config.get("cell", "reset").trim();
  if (!(RESET_MODES as readonly string[]).includes(r)) {
    throw new ConfigError(
      `[cell] reset must be one of ${RESET_MODES.map((m) => `'${m}'`).join(", ")}, found '${r}'`,
    );
  }
  return r as ResetMode;
}

/** Read the `[cell]` neuron parameters from a configuration. */
export function cellOptionsFromConfig(config: ToolboxConfig): CellOptions {
  return {
    vThresh: config.getFloat("cell", "v_thresh"),
    tauRefrac: config.getFloat("cell", "tau_refrac"),
    vReset: config.getFloat("cell", "v_reset"),
    reset: resetFromConfig(config),
    leak: config.getBoolean("cell", "leak"),
  };
}

/** Read the simulation options from a configuration (validated). */
export function simulationOptionsFromConfig(config: ToolboxConfig): SimulationOptions {
  const numPoisson = config.hasOption("input", "num_poisson_events_per_sample")
    ? config.getInt("input", "num_poisson_events_per_sample")
    : -1;
  return resolveSimulationOptions({
    duration: config.getFloat("simulation", "duration"),
    dt: config.getFloat("simulation", "dt"),
    batchSize: config.getInt("simulation", "batch_size"),
    numToTest: config.getInt("simulation", "num_to_test"),
    sampleIdxsToTest: literalNumbers(
      config.getLiteral("simulation", "sample_idxs_to_test"),
      "[simulation] sample_idxs_to_test",
    ),
    resetBetweenNthSample: config.getInt("simulation", "reset_between_nth_sample"),
    topK: config.getInt("simulation", "top_k"),
    earlyStopping: config.getBoolean("simulation", "early_stopping"),
    poissonInput: config.getBoolean("input", "poisson_input"),
    inputRate: config.getFloat("input", "input_rate"),
    numPoissonEventsPerSample: numPoisson,
    max2avgPool: config.getBoolean("conversion", "max2avg_pool"),
    cell: cellOptionsFromConfig(config),
  });
}
