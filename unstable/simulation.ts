/**
 * Unstable: may change in any release. Building blocks of the INI spiking
 * simulator (the neuron update, spiking max-pooling, the layer-by-layer
 * network, metrics, result merging), exported for tools built on the
 * toolbox; `runSimulation` and the pipeline are in the main module.
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
  integrateAndFire,
  type NeuronState,
  type NeuronStepInput,
  type NeuronStepOutput,
} from "../lib/simulation/neuron.ts";
export { gatedMaxPool, type PoolGeometry } from "../lib/simulation/maxpool.ts";
export { PASS_THROUGH_LAYER_TYPES, SPIKING_LAYER_TYPES } from "../lib/simulation/layers.ts";
export {
  type SpikingLayerInfo,
  SpikingNetwork,
  type StepOutput,
  type StepRecording,
} from "../lib/simulation/network.ts";
export { decide, inTopK, pearson, sampleCorrelations } from "../lib/simulation/metrics.ts";
export { mergeResults } from "../lib/simulation/shards.ts";
