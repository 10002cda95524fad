#!/usr/bin/python3
"""PyTorch's LeNet train step (Caffe's LeNet: conv20-5, maxpool2, conv50-5, maxpool2, ip500, relu,
ip10, softmax loss; SGD momentum 0.9, weight decay 5e-4), batch 64, fp32, on N CPU threads.
Prints one line: `torch_ms_per_iter X`."""
import argparse
import time

import torch
import torch.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--iterations", type=int, default=300)
parser.add_argument("--batch", type=int, default=64)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)

net = nn.Sequential(
    nn.Conv2d(1, 20, 5), nn.MaxPool2d(2, 2, ceil_mode=True),
    nn.Conv2d(20, 50, 5), nn.MaxPool2d(2, 2, ceil_mode=True),
    nn.Flatten(), nn.Linear(800, 500), nn.ReLU(inplace=True), nn.Linear(500, 10))
optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
loss_fn = nn.CrossEntropyLoss()
# A pool of batches, as a data loader would hand over (uint8 images scaled by 1/256).
images = (torch.randint(0, 256, (8, args.batch, 1, 28, 28)).float() * 0.00390625)
labels = torch.randint(0, 10, (8, args.batch))


def step(i):
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(net(images[i % 8]), labels[i % 8])
    loss.backward()
    optimizer.step()
    return loss


for i in range(30):
    step(i)
start = time.perf_counter()
for i in range(args.iterations):
    step(i)
elapsed = time.perf_counter() - start
print(f"torch_ms_per_iter {1000 * elapsed / args.iterations:.4f}")
