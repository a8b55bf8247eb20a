/**
 * Metrics a Keras model may be compiled with that are not built into TF.js.
 *
 * @module
 */
import { type Tensor, tf } from "../../deps.ts";

/** Keras' `backend.epsilon()`. */
const EPSILON = 1e-7;

/**
 * Precision of multi-label predictions, averaged over the batch (the
 * toolbox's `precision` metric): of the items `yPred` selects (rounded,
 * clipped to [0, 1]), the fraction `yTrue` marks relevant:
 * `Σ round(clip(yTrue·yPred)) / (Σ round(clip(yPred)) + 1e-7)`.
 */
export function precision(yTrue: Tensor, yPred: Tensor): Tensor {
  return tf.tidy(() => {
    const truePositives = tf.sum(tf.round(tf.clipByValue(tf.mul(yTrue, yPred), 0, 1)));
    const predictedPositives = tf.sum(tf.round(tf.clipByValue(yPred, 0, 1)));
    return tf.div(truePositives, tf.add(predictedPositives, EPSILON));
  });
}
