/**
 * The layer dictionaries of the input libraries (the Python toolbox's
 * `_layer_dict`): the library's layer type names and the Keras layer type
 * each one becomes. Keras, ONNX and PyTorch models are read with Keras names
 * already, so their dictionaries are empty.
 *
 * @module
 */

/** Library name → (library layer type → Keras layer type). */
const LAYER_DICTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  caffe: {
    InnerProduct: "Dense",
    Convolution: "Conv2D",
    MaxPooling2D: "MaxPooling2D",
    AveragePooling2D: "AveragePooling2D",
    ReLU: "Activation",
    Softmax: "Activation",
    Concat: "Concatenate",
    LPInnerProduct: "Dense",
    LPConvolution: "Conv2D",
    LPAct: "Activation",
  },
  lasagne: {
    DenseLayer: "Dense",
    Conv2DLayer: "Conv2D",
    Conv2DDNNLayer: "Conv2D",
    MaxPool2DLayer: "MaxPooling2D",
    Pool2DLayer: "AveragePooling2D",
    DropoutLayer: "Dropout",
    FlattenLayer: "Flatten",
    BatchNormLayer: "BatchNormalization",
    NonlinearityLayer: "Activation",
    ConcatLayer: "Concatenate",
    GlobalPoolLayer: "GlobalAveragePooling2D",
  },
};

/** The layer dictionary of library `library` (empty for libraries with Keras names). */
export function layerDictOf(library: string): Readonly<Record<string, string>> {
  return LAYER_DICTS[library] ?? {};
}
