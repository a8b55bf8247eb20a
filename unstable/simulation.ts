/**
 * Unstable: may change in any release. Building blocks of the INI spiking
 * simulator (the neuron update and layers of neurons, spiking max-pooling,
 * the layer-by-layer network, the batch simulator and its records, the
 * tallies of a run, per-sample noise, metrics, result merging), exported
 * for tools built on the toolbox; `runSimulation` and the pipeline are in
 * the main module.
 *
 * @example
 * ```ts
 * import { pearson } from "./simulation.ts";
 * console.log(pearson([1, 2, 3], [2, 4, 6])); // 1
 * ```
 *
 * @module
 */
export {
  createNeuronLayer,
  integrateAndFire,
  type NeuronLayer,
  type NeuronLayerParams,
  type NeuronState,
  type NeuronStepInput,
  type NeuronStepOutput,
} from "../lib/simulation/neuron.ts";
export { gatedMaxPool, type PoolGeometry } from "../lib/simulation/maxpool.ts";
export { PASS_THROUGH_LAYER_TYPES, SPIKING_LAYER_TYPES } from "../lib/simulation/layers.ts";
export {
  type NetworkOptions,
  type SpikingLayerInfo,
  SpikingNetwork,
  type StepOutput,
  type SteppedValues,
  type StepRecording,
} from "../lib/simulation/network.ts";
export {
  type BatchJob,
  type BatchLogs,
  type BatchRecord,
  BatchSimulator,
  type RecordOptions,
} from "../lib/simulation/batch.ts";
export { planRun, recordOptions, type RunPlan, selectSamples } from "../lib/simulation/run.ts";
export {
  accuracyLines,
  addRecord,
  emptyTotals,
  type RunMeta,
  type RunTotals,
  simulationFigures,
} from "../lib/simulation/tally.ts";
export { noiseArray, type NoiseKey, uniformNoise } from "../lib/simulation/kernels/noise.ts";
export { decide, inTopK, pearson, sampleCorrelations } from "../lib/simulation/metrics.ts";
export { mergeResults } from "../lib/simulation/shards.ts";
