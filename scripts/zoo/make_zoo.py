#!/usr/bin/python3
"""Writes the prototxts of moka's model zoo (models/NAME/{deploy,train_val,solver}.prototxt).

Layer names, types and parameter shapes follow the authors' published Caffe definitions, so the
published .caffemodel files load unchanged (weights are matched by layer name and shape):
  - bvlc_alexnet, bvlc_reference_caffenet, bvlc_googlenet, cifar10_quick, cifar10_full: BVLC
    Caffe's own definitions (from the reference copy given by --reference), with data, mean and
    snapshot paths moved under data/ and models/;
  - vgg16, vgg19, resnet50/101/152, squeezenet_v1.0/v1.1, mobilenet_v1/v2: generated here from
    their layer tables.
The READMEs are written by hand and are not touched. Run from the repository root:
    /usr/bin/python3 scripts/zoo/make_zoo.py [--reference=../shared/caffe-reference]
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGENET_TRAIN = "data/ilsvrc12/ilsvrc12_train_lmdb"
IMAGENET_VAL = "data/ilsvrc12/ilsvrc12_val_lmdb"
IMAGENET_MEAN = "data/ilsvrc12/imagenet_mean.binaryproto"


# --- Text helpers -----------------------------------------------------------------------------

def block(name, body, indent=0):
    pad = "  " * indent
    inner = "".join(pad + "  " + line + "\n" for line in body)
    return f"{pad}{name} {{\n{inner}{pad}}}\n"


def layer(name, type_, bottoms, tops, extra=()):
    lines = [f'name: "{name}"', f'type: "{type_}"']
    lines += [f'bottom: "{b}"' for b in bottoms]
    lines += [f'top: "{t}"' for t in tops]
    for item in extra:
        lines += item.rstrip("\n").split("\n")
    return block("layer", lines)


def sub(name, fields):
    """A nested message as text lines: fields are strings or (name, fields) pairs."""
    out = [f"{name} {{"]
    for field in fields:
        if isinstance(field, tuple):
            out += ["  " + line for line in sub(*field).split("\n")]
        else:
            out.append("  " + field)
    out.append("}")
    return "\n".join(out)


def param_specs(mults):
    return [sub("param", [f"lr_mult: {lr}", f"decay_mult: {decay}"]) for lr, decay in mults]


class Net:
    """Collects layers; `train` selects train_val flavour (fillers, learning-rate multipliers)."""

    def __init__(self, train):
        self.train = train
        self.text = []

    def add(self, *args, **kw):
        self.text.append(layer(*args, **kw))

    def conv(self, name, bottom, top, num_output, kernel, stride=1, pad=0, group=1, bias=True,
             filler="msra", bias_value=0.0):
        fields = [f"num_output: {num_output}"]
        if not bias:
            fields.append("bias_term: false")
        if pad:
            fields.append(f"pad: {pad}")
        fields.append(f"kernel_size: {kernel}")
        if group != 1:
            fields.append(f"group: {group}")
        if stride != 1:
            fields.append(f"stride: {stride}")
        extra = []
        if self.train:
            fields.append(("weight_filler", filler_fields(filler)))
            if bias:
                fields.append(("bias_filler", ["type: \"constant\"", f"value: {bias_value:g}"]))
            extra += param_specs([(1, 1), (2, 0)] if bias else [(1, 1)])
        extra.append(sub("convolution_param", fields))
        self.add(name, "Convolution", [bottom], [top], extra)

    def fc(self, name, bottom, top, num_output, filler="gaussian0.005", bias_value=0.0):
        fields = [f"num_output: {num_output}"]
        extra = []
        if self.train:
            fields.append(("weight_filler", filler_fields(filler)))
            fields.append(("bias_filler", ["type: \"constant\"", f"value: {bias_value:g}"]))
            extra += param_specs([(1, 1), (2, 0)])
        extra.append(sub("inner_product_param", fields))
        self.add(name, "InnerProduct", [bottom], [top], extra)

    def relu(self, name, blob):
        self.add(name, "ReLU", [blob], [blob])

    def pool(self, name, bottom, top, kind, kernel=None, stride=1, pad=0, global_pool=False):
        fields = [f"pool: {kind}"]
        if global_pool:
            fields.append("global_pooling: true")
        else:
            fields.append(f"kernel_size: {kernel}")
            if stride != 1:
                fields.append(f"stride: {stride}")
            if pad:
                fields.append(f"pad: {pad}")
        self.add(name, "Pooling", [bottom], [top], [sub("pooling_param", fields)])

    def dropout(self, name, blob, ratio=0.5):
        self.add(name, "Dropout", [blob], [blob], [sub("dropout_param", [f"dropout_ratio: {ratio}"])])

    def batch_norm(self, name, bottom, top, deploy_global=True, eps=None):
        fields = []
        if not self.train and deploy_global:
            fields.append("use_global_stats: true")
        if eps is not None:
            fields.append(f"eps: {eps}")
        # The running statistics are not learned by gradient: lr_mult 0 keeps solvers off them.
        extra = param_specs([(0, 0)] * 3)
        if fields:
            extra.append(sub("batch_norm_param", fields))
        self.add(name, "BatchNorm", [bottom], [top], extra)

    def scale(self, name, blob):
        fields = ["bias_term: true"]
        if self.train:
            fields += [("filler", ["value: 1"]), ("bias_filler", ["value: 0"])]
        self.add(name, "Scale", [blob], [blob], [sub("scale_param", fields)])

    def eltwise(self, name, bottoms, top):
        self.add(name, "Eltwise", bottoms, [top])

    def concat(self, name, bottoms, top):
        self.add(name, "Concat", bottoms, [top])

    def softmax(self, bottom):
        self.add("prob", "Softmax", [bottom], ["prob"])

    def render(self):
        return "".join(self.text)


def filler_fields(kind):
    if kind.startswith("gaussian"):
        return ['type: "gaussian"', f"std: {kind[len('gaussian'):]}"]
    return [f'type: "{kind}"']


def input_layer(shape):
    dims = " ".join(f"dim: {d}" for d in shape)
    return layer("data", "Input", [], ["data"], [f"input_param {{ shape {{ {dims} }} }}"])


def data_layers(crop, mean_values, scale, train_batch, test_batch):
    def one(phase, source, batch, mirror):
        transform = [f"mirror: {'true' if mirror else 'false'}", f"crop_size: {crop}"]
        transform += [f"mean_value: {v}" for v in mean_values]
        if scale != 1:
            transform.append(f"scale: {scale}")
        return layer("data", "Data", [], ["data", "label"], [
            sub("include", [f"phase: {phase}"]),
            sub("transform_param", transform),
            sub("data_param", [f'source: "{source}"', f"batch_size: {batch}", "backend: LMDB"]),
        ])
    return one("TRAIN", IMAGENET_TRAIN, train_batch, True) + one("TEST", IMAGENET_VAL, test_batch, False)


def loss_layers(logits):
    return (layer("loss", "SoftmaxWithLoss", [logits, "label"], ["loss"]) +
            layer("accuracy/top-1", "Accuracy", [logits, "label"], ["accuracy/top-1"],
                  [sub("include", ["phase: TEST"])]) +
            layer("accuracy/top-5", "Accuracy", [logits, "label"], ["accuracy/top-5"],
                  [sub("include", ["phase: TEST"]), sub("accuracy_param", ["top_k: 5"])]))


# --- Architectures ----------------------------------------------------------------------------

def vgg(net, depth):
    convs = {16: [2, 2, 3, 3, 3], 19: [2, 2, 4, 4, 4]}[depth]
    widths = [64, 128, 256, 512, 512]
    blob = "data"
    for stage, (count, width) in enumerate(zip(convs, widths), start=1):
        for i in range(1, count + 1):
            name = f"conv{stage}_{i}"
            net.conv(name, blob, name, width, 3, pad=1, filler="xavier")
            net.relu(f"relu{stage}_{i}", name)
            blob = name
        net.pool(f"pool{stage}", blob, f"pool{stage}", "MAX", 2, stride=2)
        blob = f"pool{stage}"
    for fc, width in (("6", 4096), ("7", 4096)):
        net.fc(f"fc{fc}", blob, f"fc{fc}", width)
        net.relu(f"relu{fc}", f"fc{fc}")
        net.dropout(f"drop{fc}", f"fc{fc}")
        blob = f"fc{fc}"
    net.fc("fc8", blob, "fc8", 1000, filler="gaussian0.01")
    return "fc8"


def resnet_block_names(depth):
    """The authors' block suffixes: letters for ResNet-50 (and every stage 5), 'b1', 'b2', ... for
    the long stages of ResNet-101/152."""
    counts = {50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}[depth]
    names = []
    for stage, count in zip((2, 3, 4, 5), counts):
        if depth == 50 or stage in (2, 5):
            names.append([chr(ord("a") + i) for i in range(count)])
        else:
            names.append(["a"] + [f"b{i}" for i in range(1, count)])
    return names


def resnet(net, depth):
    def conv_bn(conv_name, bottom, suffix, num_output, kernel, stride, pad, relu):
        net.conv(conv_name, bottom, conv_name, num_output, kernel, stride=stride, pad=pad, bias=False)
        net.batch_norm(f"bn{suffix}", conv_name, conv_name)
        net.scale(f"scale{suffix}", conv_name)
        if relu:
            net.relu(f"{conv_name}_relu", conv_name)

    net.conv("conv1", "data", "conv1", 64, 7, stride=2, pad=3, bias=False)
    net.batch_norm("bn_conv1", "conv1", "conv1")
    net.scale("scale_conv1", "conv1")
    net.relu("conv1_relu", "conv1")
    net.pool("pool1", "conv1", "pool1", "MAX", 3, stride=2)
    blob = "pool1"
    for stage, (names, width) in enumerate(zip(resnet_block_names(depth), (64, 128, 256, 512)), start=2):
        for index, letter in enumerate(names):
            tag = f"{stage}{letter}"
            stride = 2 if index == 0 and stage > 2 else 1
            if index == 0:
                conv_bn(f"res{tag}_branch1", blob, f"{tag}_branch1", 4 * width, 1, stride, 0, False)
                shortcut = f"res{tag}_branch1"
            else:
                shortcut = blob
            # The authors' models stride in the first 1x1 convolution of a block.
            conv_bn(f"res{tag}_branch2a", blob, f"{tag}_branch2a", width, 1, stride, 0, True)
            conv_bn(f"res{tag}_branch2b", f"res{tag}_branch2a", f"{tag}_branch2b", width, 3, 1, 1, True)
            conv_bn(f"res{tag}_branch2c", f"res{tag}_branch2b", f"{tag}_branch2c", 4 * width, 1, 1, 0, False)
            net.eltwise(f"res{tag}", [shortcut, f"res{tag}_branch2c"], f"res{tag}")
            net.relu(f"res{tag}_relu", f"res{tag}")
            blob = f"res{tag}"
    net.pool("pool5", blob, "pool5", "AVE", 7, stride=1)
    net.fc("fc1000", "pool5", "fc1000", 1000, filler="msra")
    return "fc1000"


def fire(net, name, bottom, squeeze, expand):
    net.conv(f"{name}/squeeze1x1", bottom, f"{name}/squeeze1x1", squeeze, 1, filler="xavier")
    net.relu(f"{name}/relu_squeeze1x1", f"{name}/squeeze1x1")
    net.conv(f"{name}/expand1x1", f"{name}/squeeze1x1", f"{name}/expand1x1", expand, 1, filler="xavier")
    net.relu(f"{name}/relu_expand1x1", f"{name}/expand1x1")
    net.conv(f"{name}/expand3x3", f"{name}/squeeze1x1", f"{name}/expand3x3", expand, 3, pad=1,
             filler="xavier")
    net.relu(f"{name}/relu_expand3x3", f"{name}/expand3x3")
    net.concat(f"{name}/concat", [f"{name}/expand1x1", f"{name}/expand3x3"], f"{name}/concat")
    return f"{name}/concat"


def squeezenet(net, version):
    if version == "1.0":
        net.conv("conv1", "data", "conv1", 96, 7, stride=2, filler="xavier")
        plan = [("fire2", 16, 64), ("fire3", 16, 64), ("fire4", 32, 128), "pool4",
                ("fire5", 32, 128), ("fire6", 48, 192), ("fire7", 48, 192), ("fire8", 64, 256),
                "pool8", ("fire9", 64, 256)]
    else:
        net.conv("conv1", "data", "conv1", 64, 3, stride=2, filler="xavier")
        plan = [("fire2", 16, 64), ("fire3", 16, 64), "pool3", ("fire4", 32, 128),
                ("fire5", 32, 128), "pool5", ("fire6", 48, 192), ("fire7", 48, 192),
                ("fire8", 64, 256), ("fire9", 64, 256)]
    net.relu("relu_conv1", "conv1")
    net.pool("pool1", "conv1", "pool1", "MAX", 3, stride=2)
    blob = "pool1"
    for step in plan:
        if isinstance(step, str):
            net.pool(step, blob, step, "MAX", 3, stride=2)
            blob = step
        else:
            blob = fire(net, step[0], blob, step[1], step[2])
    net.dropout("drop9", blob)
    # v1.0 pads its 1x1 classifier by one pixel; the global average pooling that follows makes
    # that border part of the score, so it is kept as published.
    net.conv("conv10", blob, "conv10", 1000, 1, pad=1 if version == "1.0" else 0,
             filler="gaussian0.01")
    net.relu("relu_conv10", "conv10")
    net.pool("pool10", "conv10", "pool10", "AVE", global_pool=True)
    return "pool10"


def conv_bn_scale_relu(net, conv_name, bottom, num_output, kernel, stride=1, pad=0, group=1,
                       relu_name=None, eps=None):
    net.conv(conv_name, bottom, conv_name, num_output, kernel, stride=stride, pad=pad, group=group,
             bias=False)
    net.batch_norm(f"{conv_name}/bn", conv_name, f"{conv_name}/bn", eps=eps)
    net.scale(f"{conv_name}/scale", f"{conv_name}/bn")
    if relu_name:
        net.relu(relu_name, f"{conv_name}/bn")
    return f"{conv_name}/bn"


def mobilenet_v1(net):
    blob = conv_bn_scale_relu(net, "conv1", "data", 32, 3, stride=2, pad=1, relu_name="relu1")
    plan = [("2_1", 32, 64, 1), ("2_2", 64, 128, 2), ("3_1", 128, 128, 1), ("3_2", 128, 256, 2),
            ("4_1", 256, 256, 1), ("4_2", 256, 512, 2)] + \
           [(f"5_{i}", 512, 512, 1) for i in range(1, 6)] + [("5_6", 512, 1024, 2), ("6", 1024, 1024, 1)]
    for tag, channels, out, stride in plan:
        # Depthwise convolution: one group per channel.
        blob = conv_bn_scale_relu(net, f"conv{tag}/dw", blob, channels, 3, stride=stride, pad=1,
                                  group=channels, relu_name=f"relu{tag}/dw")
        blob = conv_bn_scale_relu(net, f"conv{tag}/sep", blob, out, 1, relu_name=f"relu{tag}/sep")
    net.pool("pool6", blob, "pool6", "AVE", global_pool=True)
    net.conv("fc7", "pool6", "fc7", 1000, 1, filler="msra")
    return "fc7"


def mobilenet_v2(net):
    blob = conv_bn_scale_relu(net, "conv1", "data", 32, 3, stride=2, pad=1, relu_name="relu1", eps="1e-5")
    # (expansion t, output channels c, repeats n, first stride s), as in the MobileNetV2 paper; the
    # published Caffe port names the 17 bottlenecks conv2_1 ... conv6_3.
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                (6, 160, 3, 2), (6, 320, 1, 1)]
    tags = ["2_1", "2_2", "3_1", "3_2", "4_1", "4_2", "4_3", "4_4", "4_5", "4_6", "4_7",
            "5_1", "5_2", "5_3", "6_1", "6_2", "6_3"]
    channels = 32
    index = 0
    for t, c, n, s in settings:
        for repeat in range(n):
            tag = tags[index]
            index += 1
            stride = s if repeat == 0 else 1
            hidden = channels * t
            expanded = conv_bn_scale_relu(net, f"conv{tag}/expand", blob, hidden, 1,
                                          relu_name=f"relu{tag}/expand", eps="1e-5")
            dwise = conv_bn_scale_relu(net, f"conv{tag}/dwise", expanded, hidden, 3, stride=stride,
                                       pad=1, group=hidden, relu_name=f"relu{tag}/dwise", eps="1e-5")
            linear = conv_bn_scale_relu(net, f"conv{tag}/linear", dwise, c, 1, eps="1e-5")
            if stride == 1 and channels == c:
                net.eltwise(f"block_{tag}", [blob, linear], f"block_{tag}")
                blob = f"block_{tag}"
            else:
                blob = linear
            channels = c
    blob = conv_bn_scale_relu(net, "conv6_4", blob, 1280, 1, relu_name="relu6_4", eps="1e-5")
    net.pool("pool6", blob, "pool6", "AVE", global_pool=True)
    net.conv("fc7", "pool6", "fc7", 1000, 1, filler="msra")
    return "fc7"


# name: (title, builder, input size, mean values, scale, train batch, solver text)
GENERATED = {
    "vgg16": ("VGG_ILSVRC_16_layers", lambda n: vgg(n, 16), 224, (103.939, 116.779, 123.68), 1, 64),
    "vgg19": ("VGG_ILSVRC_19_layers", lambda n: vgg(n, 19), 224, (103.939, 116.779, 123.68), 1, 64),
    "resnet50": ("ResNet-50", lambda n: resnet(n, 50), 224, (104, 117, 123), 1, 32),
    "resnet101": ("ResNet-101", lambda n: resnet(n, 101), 224, (104, 117, 123), 1, 32),
    "resnet152": ("ResNet-152", lambda n: resnet(n, 152), 224, (104, 117, 123), 1, 32),
    "squeezenet_v1.0": ("SqueezeNet_v1.0", lambda n: squeezenet(n, "1.0"), 227, (104, 117, 123), 1, 32),
    "squeezenet_v1.1": ("SqueezeNet_v1.1", lambda n: squeezenet(n, "1.1"), 227, (104, 117, 123), 1, 32),
    "mobilenet_v1": ("MOBILENET", mobilenet_v1, 224, (103.94, 116.78, 123.68), 0.017, 64),
    "mobilenet_v2": ("MOBILENET_V2", mobilenet_v2, 224, (103.94, 116.78, 123.68), 0.017, 64),
}

SOLVERS = {
    # VGG paper: batch 256, lr 0.01 divided by 10 on plateaus (3 times), 370k iterations (74 epochs).
    "vgg": dict(base_lr=0.01, lr_policy='"multistep"', stepvalue=[100000, 200000, 300000],
                gamma=0.1, max_iter=370000, momentum=0.9, weight_decay=0.0005, iter_size=4),
    # ResNet paper: batch 256, lr 0.1 divided by 10 on plateaus, 600k iterations, decay 1e-4.
    "resnet": dict(base_lr=0.1, lr_policy='"multistep"', stepvalue=[150000, 300000, 450000],
                   gamma=0.1, max_iter=600000, momentum=0.9, weight_decay=0.0001, iter_size=8),
    # The authors' solver.prototxt: batch 32 x iter_size 16 = 512, poly lr from 0.04.
    "squeezenet": dict(base_lr=0.04, lr_policy='"poly"', power=1.0, max_iter=170000,
                       momentum=0.9, weight_decay=0.0002, iter_size=16),
    # The Caffe port publishes no ImageNet solver; this is a common SGD schedule for MobileNets.
    "mobilenet": dict(base_lr=0.1, lr_policy='"poly"', power=1.0, max_iter=500000,
                      momentum=0.9, weight_decay=0.00004, iter_size=4),
}


def solver_text(name, family):
    lines = [f'net: "models/{name}/train_val.prototxt"',
             "test_iter: 1000  # 50,000 validation images in batches of 50",
             "test_interval: 10000", "test_initialization: false", "display: 40", "average_loss: 40"]
    for key, value in SOLVERS[family].items():
        if isinstance(value, list):
            lines += [f"{key}: {v}" for v in value]
        else:
            lines.append(f"{key}: {value}")
    lines += ["snapshot: 10000", f'snapshot_prefix: "models/{name}/{name}"', "solver_mode: GPU"]
    return "\n".join(lines) + "\n"


def family_of(name):
    for family in SOLVERS:
        if name.startswith(family):
            return family
    raise KeyError(name)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def generate(name):
    title, build, size, mean, scale, batch = GENERATED[name]
    folder = os.path.join(ROOT, "models", name)
    os.makedirs(folder, exist_ok=True)
    deploy = Net(train=False)
    logits = build(deploy)
    deploy.softmax(logits)
    write(os.path.join(folder, "deploy.prototxt"),
          f'name: "{title}"\n' + input_layer([10, 3, size, size]) + deploy.render())
    train = Net(train=True)
    logits = build(train)
    write(os.path.join(folder, "train_val.prototxt"),
          f'name: "{title}"\n' + data_layers(size, mean, scale, batch, 50) + train.render() +
          loss_layers(logits))
    write(os.path.join(folder, "solver.prototxt"), solver_text(name, family_of(name)))


# --- BVLC's own models ------------------------------------------------------------------------

def rewrite_paths(text, name):
    text = text.replace("examples/imagenet/ilsvrc12_train_lmdb", IMAGENET_TRAIN)
    text = text.replace("examples/imagenet/ilsvrc12_val_lmdb", IMAGENET_VAL)
    text = text.replace("data/ilsvrc12/imagenet_mean.binaryproto", IMAGENET_MEAN)
    text = text.replace("examples/cifar10/cifar10_train_lmdb", "data/cifar10/cifar10_train_lmdb")
    text = text.replace("examples/cifar10/cifar10_test_lmdb", "data/cifar10/cifar10_test_lmdb")
    text = text.replace("examples/cifar10/mean.binaryproto", "data/cifar10/mean.binaryproto")
    text = re.sub(r'net: "[^"]*"', f'net: "models/{name}/train_val.prototxt"', text)
    text = re.sub(r'snapshot_prefix: "[^"]*/([^"/]*)"', rf'snapshot_prefix: "models/{name}/\1"', text)
    return text


def copy_bvlc(reference, name, files, cpu):
    folder = os.path.join(ROOT, "models", name)
    os.makedirs(folder, exist_ok=True)
    for target, source in files.items():
        with open(os.path.join(reference, source)) as f:
            text = rewrite_paths(f.read(), name)
        if cpu and target == "solver.prototxt":
            text = text.replace("solver_mode: GPU", "solver_mode: CPU")
        write(os.path.join(folder, target), text)


BVLC = {
    "bvlc_alexnet": ({"deploy.prototxt": "models/bvlc_alexnet/deploy.prototxt",
                      "train_val.prototxt": "models/bvlc_alexnet/train_val.prototxt",
                      "solver.prototxt": "models/bvlc_alexnet/solver.prototxt"}, False),
    "bvlc_reference_caffenet": ({"deploy.prototxt": "models/bvlc_reference_caffenet/deploy.prototxt",
                                 "train_val.prototxt": "models/bvlc_reference_caffenet/train_val.prototxt",
                                 "solver.prototxt": "models/bvlc_reference_caffenet/solver.prototxt"}, False),
    "bvlc_googlenet": ({"deploy.prototxt": "models/bvlc_googlenet/deploy.prototxt",
                        "train_val.prototxt": "models/bvlc_googlenet/train_val.prototxt",
                        "solver.prototxt": "models/bvlc_googlenet/solver.prototxt",
                        "quick_solver.prototxt": "models/bvlc_googlenet/quick_solver.prototxt"}, False),
    "cifar10_quick": ({"deploy.prototxt": "examples/cifar10/cifar10_quick.prototxt",
                       "train_val.prototxt": "examples/cifar10/cifar10_quick_train_test.prototxt",
                       "solver.prototxt": "examples/cifar10/cifar10_quick_solver.prototxt",
                       "solver_lr1.prototxt": "examples/cifar10/cifar10_quick_solver_lr1.prototxt"}, True),
    "cifar10_full": ({"deploy.prototxt": "examples/cifar10/cifar10_full.prototxt",
                      "train_val.prototxt": "examples/cifar10/cifar10_full_train_test.prototxt",
                      "solver.prototxt": "examples/cifar10/cifar10_full_solver.prototxt",
                      "solver_lr1.prototxt": "examples/cifar10/cifar10_full_solver_lr1.prototxt",
                      "solver_lr2.prototxt": "examples/cifar10/cifar10_full_solver_lr2.prototxt"}, True),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference",
                        default=os.path.join(os.path.dirname(ROOT), "shared", "caffe-reference"),
                        help="a copy of BVLC Caffe's models/ and examples/ definitions")
    parser.add_argument("models", nargs="*", help="only these models (default: all)")
    args = parser.parse_args()
    wanted = args.models or sorted(list(GENERATED) + list(BVLC))
    for name in wanted:
        if name in GENERATED:
            generate(name)
        elif name in BVLC:
            if not os.path.isdir(args.reference):
                sys.exit(f"{name} is copied from BVLC Caffe's definitions: give --reference")
            copy_bvlc(args.reference, name, *BVLC[name])
        else:
            sys.exit(f"unknown model {name}")
        print(f"models/{name}")


if __name__ == "__main__":
    main()
