/**
 * `[parameter_sweep]`: run the simulation once per value of one `[cell]`
 * parameter and report the accuracy for each (the toolbox's
 * `run_parameter_sweep`).
 *
 * @module
 */
import type { LayersModel } from "../../deps.ts";
import type { ToolboxConfig } from "../config/types.ts";
import { ConfigError } from "../errors.ts";
import { type CellOptions, literalNumbers, type SimulationOptions } from "./options.ts";
import type { SweepResult } from "./report.ts";
import { type RunOptions, runSimulation, type SimulationResult, type TestData } from "./run.ts";

/** `[parameter_sweep]` options. */
export interface SweepOptions {
  /** `param_name`: the `[cell]` key to sweep (`v_thresh`, `tau_refrac` or `v_reset`). */
  paramName: string;
  /** `param_values`: the values (empty: no sweep). */
  values: number[];
  /** `param_logscale`: plot the parameter on a log axis. */
  logScale: boolean;
}

/** `[cell]` keys the INI simulator uses, and the option field they set. */
export const SWEEPABLE_PARAMS: Readonly<Record<string, keyof CellOptions>> = {
  v_thresh: "vThresh",
  tau_refrac: "tauRefrac",
  v_reset: "vReset",
};

/** Read `[parameter_sweep]` from a configuration (validated). */
export function sweepOptionsFromConfig(config: ToolboxConfig): SweepOptions {
  const paramName = config.get("parameter_sweep", "param_name").trim();
  const values = literalNumbers(
    config.getLiteral("parameter_sweep", "param_values"),
    "[parameter_sweep] param_values",
  );
  const sweep = { paramName, values, logScale: config.getBoolean("parameter_sweep", "param_logscale") };
  if (values.length > 1) checkParam(sweep.paramName);
  return sweep;
}

function checkParam(name: string): keyof CellOptions {
  const key = SWEEPABLE_PARAMS[name];
  if (!key) {
    throw new ConfigError(
      `[parameter_sweep] param_name '${name}' cannot be swept with the INI simulator; expected one of ${
        Object.keys(SWEEPABLE_PARAMS).join(", ")
      }`,
    );
  }
  return key;
}

/** Simulation options with the swept parameter set to `value`. */
export function withParam(options: SimulationOptions, paramName: string, value: number): SimulationOptions {
  const key = checkParam(paramName);
  return { ...options, cell: { ...options.cell, [key]: value } };
}

/**
 * Simulate once per value of the swept parameter. `runFor(i)` gives the run
 * options (log directory, progress) of the `i`-th run.
 */
export async function runParameterSweep(
  model: LayersModel,
  data: TestData,
  options: SimulationOptions,
  sweep: SweepOptions,
  runFor: (index: number) => RunOptions = () => ({}),
): Promise<{ sweep: SweepResult; runs: SimulationResult[] }> {
  const runs: SimulationResult[] = [];
  for (let i = 0; i < sweep.values.length; i++) {
    runs.push(
      await runSimulation(model, data, withParam(options, sweep.paramName, sweep.values[i]), runFor(i)),
    );
  }
  return {
    sweep: {
      paramName: sweep.paramName,
      values: sweep.values,
      accuracies: runs.map((r) => r.snnAccuracy),
      numSamples: runs[0]?.numSamples ?? 0,
      logScale: sweep.logScale,
    },
    runs,
  };
}
