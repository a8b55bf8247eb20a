"""A branching CNN written the way the SNN toolbox's PyTorch example is: a
stem, two parallel branches concatenated along the channels, a 1x1 head,
`view` to flatten, then Dropout, Linear and Softmax; BatchNorm in the stem.
The toolbox instantiates `Model` and reads its `input_shape`."""
import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super(Model, self).__init__()
        self.input_shape = (1, 28, 28)  # C, H, W: the toolbox needs it

        stem = [nn.Conv2d(1, 12, kernel_size=5, stride=2),
                nn.BatchNorm2d(12),
                nn.ReLU(),
                nn.AvgPool2d(kernel_size=2, stride=2)]
        self.stem = nn.Sequential(*stem)
        self.wide = nn.Sequential(nn.Conv2d(12, 16, kernel_size=3, padding=1),
                                  nn.ReLU())
        self.narrow = nn.Sequential(nn.Conv2d(12, 6, kernel_size=1),
                                    nn.ReLU())
        self.mix = nn.Sequential(nn.Conv2d(22, 10, kernel_size=1),
                                 nn.ReLU())
        self.out = nn.Sequential(nn.Dropout(0.1),
                                 nn.Linear(360, 10),
                                 nn.Softmax(dim=1))

    def forward(self, x):
        x = self.stem(x)
        a = self.wide(x)
        b = self.narrow(x)
        x = torch.cat([a, b], 1)
        x = self.mix(x)
        x = x.view(-1, 360)
        return self.out(x)
