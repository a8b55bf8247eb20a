"""A small residual network: basic blocks with identity and 1x1-convolution
shortcuts built by a helper in a loop, batch norm, `out += shortcut`,
adaptive average pooling and a linear classifier."""
import torch
from torch import nn
import torch.nn.functional as F

kwargs = {"num_classes": 10, "widths": (8, 16)}


class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


def make_stage(in_planes, planes, blocks, stride):
    layers = []
    for i in range(blocks):
        layers.append(BasicBlock(in_planes if i == 0 else planes, planes, stride if i == 0 else 1))
    return nn.Sequential(*layers)


class Model(nn.Module):
    input_shape = (1, 28, 28)

    def __init__(self, num_classes=10, widths=(8, 16)):
        super(Model, self).__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, widths[0], 3, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        stages = []
        in_planes = widths[0]
        for i, w in enumerate(widths):
            stages.append(make_stage(in_planes, w, 2, 1 if i == 0 else 2))
            in_planes = w
        self.stages = nn.ModuleList(stages)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[-1], num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        x = self.pool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)
