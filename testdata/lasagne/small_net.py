"""Small test network (interpreted, never run)."""
import lasagne
import lasagne.layers as L
from lasagne.layers import batch_norm, InputLayer
from lasagne.nonlinearities import rectify

N_BRANCH = 2


def conv_block(incoming, filters, name):
    return batch_norm(L.Conv2DLayer(incoming, filters, (3, 3), pad='same', name=name))


def build_cnn(input_var=None, width=3):
    net = {}
    net['in'] = InputLayer(shape=(None, 2, 6, 6), input_var=input_var)
    net['pad'] = L.PadLayer(net['in'], width=1)
    net['c0'] = L.Conv2DLayer(net['pad'], num_filters=width, filter_size=3,
                              nonlinearity=lasagne.nonlinearities.rectify)
    branches = [None] * N_BRANCH
    for i in range(N_BRANCH):
        branches[i] = conv_block(net['c0'], 4, 'branch%d' % i)
    net['sum'] = L.ElemwiseSumLayer(branches)
    net['cat'] = L.ConcatLayer([net['c0'], net['sum']], axis=1)
    net['pool'] = L.Pool2DLayer(net['cat'], pool_size=2, mode='average_inc_pad')
    net['mp'] = L.MaxPool2DLayer(net['pool'], (2, 2), stride=1)
    net['gp'] = L.GlobalPoolLayer(net['mp'])
    net['drop'] = L.DropoutLayer(net['gp'], p=0.5)
    net['out'] = L.DenseLayer(net['drop'], num_units=5,
                              nonlinearity=lasagne.nonlinearities.softmax)
    return net['out'], net


if __name__ == "__main__":
    build_cnn()
