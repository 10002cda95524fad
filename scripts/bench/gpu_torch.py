#!/usr/bin/env python3
"""PyTorch's train step on one CUDA device for the nets of scripts/bench/gpu.sh, written to match
Caffe's definitions: LeNet (models/lenet) and AlexNet (bvlc_alexnet: grouped conv2/4/5, LRN
across channels, ceil-mode max pooling, dropout 0.5). fp32 with TF32 off, cuDNN autotuning on,
SGD with momentum 0.9 and weight decay 5e-4, the input already on the device (constant values, as
moka's DummyData). Prints `torch_ms_per_iter X`; with no CUDA torch it prints why and exits 3."""
import argparse
import sys
import time

try:
    import torch
    import torch.nn as nn
except ImportError as error:
    print(f"gpu_torch: PyTorch is not installed ({error})")
    sys.exit(3)


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.MaxPool2d(2, 2, ceil_mode=True),
        nn.Conv2d(20, 50, 5), nn.MaxPool2d(2, 2, ceil_mode=True),
        nn.Flatten(), nn.Linear(800, 500), nn.ReLU(inplace=True), nn.Linear(500, 10))


def alexnet():
    def lrn():
        return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)

    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True), lrn(),
        nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(inplace=True), lrn(),
        nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2, ceil_mode=True), nn.Flatten(),
        nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 1000))


NETS = {"lenet": (lenet, (1, 28, 28), 10), "alexnet": (alexnet, (3, 227, 227), 1000)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--net", choices=sorted(NETS), required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("gpu_torch: this PyTorch has no usable CUDA device")
        sys.exit(3)

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    build, shape, classes = NETS[args.net]
    device = torch.device("cuda:0")
    net = build().to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    images = torch.full((args.batch,) + shape, 0.5, device=device)
    labels = torch.zeros(args.batch, dtype=torch.long, device=device)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(net(images), labels)
        loss.backward()
        optimizer.step()
        # moka reports each iteration's loss on the host; so does this loop.
        return loss.item()

    for _ in range(args.warmup):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.iterations):
        step()
    torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    print(f"torch_ms_per_iter {1000 * elapsed / args.iterations:.4f}")


if __name__ == "__main__":
    main()
