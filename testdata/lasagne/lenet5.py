"""LeNet-5 variant of the snn_toolbox Lasagne example (examples/models/lenet5/lasagne/99.02.py),
rewritten from the layer stack described in ../shared/fixtures/lasagne/SOURCES.md: the
parameters snn_lasagne_lenet5_mnist_99.02_params.h5 fit this network
(get_all_param_values order: W, b of each conv/dense layer; beta, gamma, mean, inv_std of
each BatchNormLayer)."""
import lasagne
from lasagne.layers import InputLayer, Conv2DLayer, BatchNormLayer, NonlinearityLayer
from lasagne.layers import MaxPool2DLayer, DropoutLayer, DenseLayer
from lasagne.nonlinearities import rectify, softmax


def build_network(input_var=None):
    net = {}
    net['input'] = InputLayer((None, 1, 28, 28), input_var=input_var)
    net['conv1'] = Conv2DLayer(net['input'], 16, 5, stride=2, nonlinearity=None,
                               W=lasagne.init.GlorotUniform())
    net['bn1'] = BatchNormLayer(net['conv1'])
    net['relu1'] = NonlinearityLayer(net['bn1'], rectify)
    net['conv2'] = Conv2DLayer(net['relu1'], num_filters=32, filter_size=(3, 3),
                               nonlinearity=lasagne.nonlinearities.identity)
    net['bn2'] = BatchNormLayer(net['conv2'])
    net['relu2'] = NonlinearityLayer(net['bn2'], nonlinearity=rectify)
    net['pool2'] = MaxPool2DLayer(net['relu2'], pool_size=(2, 2))
    net['drop2'] = DropoutLayer(net['pool2'], p=0.1)
    net['dense3'] = DenseLayer(net['drop2'], num_units=800, nonlinearity=None)
    net['bn3'] = BatchNormLayer(net['dense3'])
    net['relu3'] = NonlinearityLayer(net['bn3'])
    net['drop3'] = DropoutLayer(net['relu3'], p=0.1)
    net['out'] = DenseLayer(net['drop3'], num_units=10, nonlinearity=softmax)
    return net['out']


if __name__ == '__main__':
    # Training code never runs when the toolbox reads this file.
    network = build_network()
    print(lasagne.layers.count_params(network))
