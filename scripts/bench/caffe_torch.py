#!/usr/bin/python3
"""PyTorch peer for the CPU benchmark: builds, from a Caffe prototxt, a torch module that runs the
same layers on the same shapes (the benchmark's definition of "the same architecture"), and times
its forward+backward, a full SGD step, or an inference forward.

Standard library text parsing only (no protobuf module needed). The layer types covered are those
of the benchmark nets: Input, DummyData, Convolution, Pooling, LRN, ReLU, Sigmoid, TanH,
InnerProduct, Dropout, Softmax, SoftmaxWithLoss, Accuracy (skipped), Concat, Eltwise, BatchNorm,
Scale, Split, Flatten. An unknown type is an error, never silently dropped.

usage: caffe_torch.py NET.prototxt --mode forward_backward|train_step|forward --threads N
                      [--iterations N] [--phase TRAIN|TEST]
prints: torch_ms_per_iter X, forward_gflop X (per iteration, multiply-adds counted as 2),
        backward_gflop X
"""
import argparse
import math
import re
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|[{}:]|[^\s{}:"\']+')


def parse_prototxt(text):
    """Parses protobuf text format into nested dicts of lists: {"layer": [{...}, ...], ...}."""
    tokens = TOKEN.findall(re.sub(r"#[^\n]*", "", text))
    root, stack, pos = {}, [], 0
    node = root
    while pos < len(tokens):
        token = tokens[pos]
        if token == "}":
            node = stack.pop()
            pos += 1
            continue
        name = token
        pos += 1
        if pos < len(tokens) and tokens[pos] == ":":
            pos += 1
        if pos < len(tokens) and tokens[pos] == "{":
            child = {}
            node.setdefault(name, []).append(child)
            stack.append(node)
            node = child
            pos += 1
            continue
        node.setdefault(name, []).append(tokens[pos].strip("\"'"))
        pos += 1
    return root


def one(message, field, default=None, cast=str):
    values = message.get(field, []) if message else []
    return cast(values[0]) if values else default


def many(message, field, cast=int):
    return [cast(v) for v in (message.get(field, []) if message else [])]


def spatial(param, name, default):
    """Caffe's kernel_size/pad/stride: a repeated field or the _h/_w pair."""
    values = many(param, name)
    h = one(param, name + "_h", None, int)
    w = one(param, name + "_w", None, int)
    if h is not None or w is not None:
        return (h if h is not None else default, w if w is not None else default)
    if not values:
        return (default, default)
    return (values[0], values[-1])


def included(layer, phase):
    for rule in layer.get("include", []):
        if one(rule, "phase", phase) != phase:
            return False
    for rule in layer.get("exclude", []):
        if one(rule, "phase") == phase:
            return False
    return True


class CaffeNet(nn.Module):
    def __init__(self, net, phase, device):
        super().__init__()
        self.steps = []
        self.inputs = {}
        self.flops_forward = 0.0
        self.flops_backward = 0.0
        shapes = {}
        needs_grad = {}
        self.params = nn.ModuleDict()
        for index, layer in enumerate(l for l in net.get("layer", []) if included(l, phase)):
            kind = one(layer, "type")
            name = one(layer, "name", f"layer{index}")
            bottoms = layer.get("bottom", [])
            tops = layer.get("top", [])
            key = f"l{index}"
            if kind in ("Input", "DummyData"):
                param = layer.get("input_param", layer.get("dummy_data_param", [{}]))[0]
                for top, shape in zip(tops, param.get("shape", [])):
                    dims = many(shape, "dim")
                    shapes[top] = dims
                    needs_grad[top] = False
                    integer = top == "label"
                    self.inputs[top] = (torch.zeros(dims, dtype=torch.long, device=device) if integer
                                        else torch.rand(dims, device=device))
                continue
            if kind in ("Accuracy", "Silence"):
                continue
            in_shape = shapes[bottoms[0]] if bottoms else None
            grad_in = any(needs_grad.get(b, False) for b in bottoms)
            if kind == "Convolution":
                p = layer["convolution_param"][0]
                out = one(p, "num_output", cast=int)
                kh, kw = spatial(p, "kernel_size", 1)
                ph, pw = spatial(p, "pad", 0)
                sh, sw = spatial(p, "stride", 1)
                dil = (many(p, "dilation") or [1])[0]
                group = one(p, "group", 1, int)
                bias = one(p, "bias_term", "true") == "true"
                module = nn.Conv2d(in_shape[1], out, (kh, kw), (sh, sw), (ph, pw), dil, group, bias)
                self.params[key] = module
                oh = (in_shape[2] + 2 * ph - dil * (kh - 1) - 1) // sh + 1
                ow = (in_shape[3] + 2 * pw - dil * (kw - 1) - 1) // sw + 1
                out_shape = [in_shape[0], out, oh, ow]
                macs = in_shape[0] * out * oh * ow * (in_shape[1] // group) * kh * kw
                self._count(macs, grad_in)
                fn = module
            elif kind == "InnerProduct":
                p = layer["inner_product_param"][0]
                out = one(p, "num_output", cast=int)
                axis = one(p, "axis", 1, int)
                features = math.prod(in_shape[axis:])
                module = nn.Linear(features, out, one(p, "bias_term", "true") == "true")
                self.params[key] = module
                out_shape = in_shape[:axis] + [out]
                self._count(math.prod(in_shape[:axis]) * features * out, grad_in)
                fn = (lambda m, a: lambda x: m(x.flatten(a)))(module, axis)
            elif kind == "Pooling":
                p = layer.get("pooling_param", [{}])[0]
                method = one(p, "pool", "MAX")
                if one(p, "global_pooling", "false") == "true":
                    kh, kw, ph, pw, sh, sw = in_shape[2], in_shape[3], 0, 0, 1, 1
                else:
                    kh, kw = spatial(p, "kernel_size", 1)
                    ph, pw = spatial(p, "pad", 0)
                    sh, sw = spatial(p, "stride", 1)
                oh = math.ceil((in_shape[2] + 2 * ph - kh) / sh) + 1
                ow = math.ceil((in_shape[3] + 2 * pw - kw) / sw) + 1
                if ph and (oh - 1) * sh >= in_shape[2] + ph:
                    oh -= 1
                if pw and (ow - 1) * sw >= in_shape[3] + pw:
                    ow -= 1
                out_shape = [in_shape[0], in_shape[1], oh, ow]
                if method == "MAX":
                    fn = nn.MaxPool2d((kh, kw), (sh, sw), (ph, pw), ceil_mode=True)
                else:
                    fn = nn.AvgPool2d((kh, kw), (sh, sw), (ph, pw), ceil_mode=True)
            elif kind == "LRN":
                p = layer.get("lrn_param", [{}])[0]
                fn = nn.LocalResponseNorm(one(p, "local_size", 5, int), one(p, "alpha", 1.0, float),
                                          one(p, "beta", 0.75, float), one(p, "k", 1.0, float))
                out_shape = in_shape
            elif kind == "ReLU":
                fn, out_shape = F.relu, in_shape
            elif kind == "Sigmoid":
                fn, out_shape = torch.sigmoid, in_shape
            elif kind == "TanH":
                fn, out_shape = torch.tanh, in_shape
            elif kind == "Dropout":
                ratio = one(layer.get("dropout_param", [{}])[0], "dropout_ratio", 0.5, float)
                fn = nn.Dropout(ratio)
                out_shape = in_shape
            elif kind == "Softmax":
                fn, out_shape = (lambda x: F.softmax(x, 1)), in_shape
            elif kind == "SoftmaxWithLoss":
                weight = one(layer, "loss_weight", 1.0, float)
                fn = (lambda w: lambda x, y: w * F.cross_entropy(x, y))(weight)
                out_shape = []
            elif kind == "Concat":
                axis = one(layer.get("concat_param", [{}])[0], "axis", 1, int)
                out_shape = list(in_shape)
                out_shape[axis] = sum(shapes[b][axis] for b in bottoms)
                fn = (lambda a: lambda *xs: torch.cat(xs, a))(axis)
            elif kind == "Eltwise":
                p = layer.get("eltwise_param", [{}])[0]
                op = one(p, "operation", "SUM")
                coeff = many(p, "coeff", float)
                if op == "SUM":
                    fn = (lambda c: lambda *xs: sum((c[i] if c else 1) * x for i, x in enumerate(xs)))(coeff)
                elif op == "PROD":
                    fn = lambda *xs: math.prod(xs)
                else:
                    fn = lambda *xs: torch.stack(xs).amax(0)
                out_shape = in_shape
            elif kind == "BatchNorm":
                p = layer.get("batch_norm_param", [{}])[0]
                module = nn.BatchNorm2d(in_shape[1], one(p, "eps", 1e-5, float), affine=False)
                global_stats = one(p, "use_global_stats", "true" if phase == "TEST" else "false")
                module.train(global_stats != "true")
                self.params[key] = module
                fn, out_shape = module, in_shape
            elif kind == "Scale":
                p = layer.get("scale_param", [{}])[0]
                channels = in_shape[1]
                scale = nn.Parameter(torch.ones(1, channels, 1, 1))
                bias = nn.Parameter(torch.zeros(1, channels, 1, 1)) if one(p, "bias_term", "false") == "true" else None
                holder = nn.Module()
                holder.scale = scale
                if bias is not None:
                    holder.bias = bias
                self.params[key] = holder
                fn = (lambda s, b: (lambda x: x * s + b) if b is not None else (lambda x: x * s))(scale, bias)
                out_shape = in_shape
            elif kind == "Split":
                fn, out_shape = (lambda x: x), in_shape
            elif kind == "Flatten":
                fn = lambda x: x.flatten(1)
                out_shape = [in_shape[0], math.prod(in_shape[1:])]
            else:
                raise SystemExit(f"caffe_torch: layer {name!r} has type {kind}, which this peer "
                                 "does not model")
            for top in tops:
                shapes[top] = out_shape
                needs_grad[top] = True
            self.steps.append((name, kind, fn, bottoms, tops))
        self.to(device)

    def _count(self, macs, grad_in):
        self.flops_forward += 2 * macs
        # The weight gradient always, the input gradient when the bottom needs one.
        self.flops_backward += 2 * macs * (2 if grad_in else 1)

    def forward(self):
        blobs = dict(self.inputs)
        losses = []
        for name, kind, fn, bottoms, tops in self.steps:
            result = fn(*(blobs[b] for b in bottoms))
            if kind == "SoftmaxWithLoss":
                losses.append(result)
            for top in tops:
                blobs[top] = result
        return sum(losses) if losses else blobs[self.steps[-1][4][0]]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("net")
    parser.add_argument("--mode", choices=["forward_backward", "train_step", "forward"], required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--phase", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    phase = args.phase or ("TEST" if args.mode == "forward" else "TRAIN")
    with open(args.net) as source:
        net = CaffeNet(parse_prototxt(source.read()), phase, torch.device("cpu"))
    net.train(phase == "TRAIN")
    optimizer = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9, weight_decay=5e-4)

    def step():
        if args.mode == "forward":
            with torch.no_grad():
                net()
            return
        if args.mode == "train_step":
            optimizer.zero_grad(set_to_none=True)
        out = net()
        (out if out.dim() == 0 else out.sum()).backward()
        if args.mode == "train_step":
            optimizer.step()

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.iterations):
        step()
    elapsed = time.perf_counter() - start
    print(f"torch_ms_per_iter {1000 * elapsed / args.iterations:.4f}")
    print(f"forward_gflop {net.flops_forward / 1e9:.6f}")
    print(f"backward_gflop {net.flops_backward / 1e9:.6f}")


if __name__ == "__main__":
    sys.exit(main())
