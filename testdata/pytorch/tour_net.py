"""A tour of the nn.Module subset the script reader covers: an OrderedDict
Sequential, a ModuleList built in a comprehension and walked with enumerate,
add_module, a depthwise and a 'same'-padded convolution, ReLU6, pooling with
padding and count_include_pad, adaptive pooling, F.dropout with
training=self.training, view(x.size(0), -1), nn.Flatten and a helper class
whose forward adds a residual."""
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

WIDTH = 6


class Residual(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


class Model(nn.Module):
    def __init__(self, classes=5):
        super(Model, self).__init__()
        self.input_shape = (3, 16, 16)
        self.stem = nn.Sequential(OrderedDict([
            ("conv", nn.Conv2d(3, WIDTH, kernel_size=3, stride=(2, 1), padding=(1, 0))),
            ("bn", nn.BatchNorm2d(WIDTH)),
            ("act", nn.ReLU6()),
        ]))
        self.blocks = nn.ModuleList([
            Residual(nn.Sequential(
                nn.Conv2d(WIDTH, WIDTH, 3, padding="same", groups=WIDTH, bias=False),
                nn.BatchNorm2d(WIDTH),
                nn.ReLU(),
            ))
            for _ in range(2)
        ])
        self.add_module("pool", nn.MaxPool2d(3, stride=2, padding=1))
        self.avg = nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=True)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(WIDTH * 2 * 4, 16), nn.ReLU())
        self.fc = nn.Linear(16 + WIDTH, classes)

    def forward(self, x):
        x = self.stem(x)
        for i, block in enumerate(self.blocks):
            x = block(x)
        x = self.pool(x)
        pooled = F.adaptive_avg_pool2d(x, (1, 1)).view(x.size(0), -1)
        x = self.avg(x)
        x = F.avg_pool2d(x, kernel_size=2)
        x = F.dropout(x, p=0.3, training=self.training)
        x = self.head(x)
        x = torch.cat((x, pooled), dim=1)
        return F.softmax(self.fc(x), dim=-1)
