#!/usr/bin/python3
"""Helpers for scripts/bench/extract.sh.

  make-net  --deploy D --source LMDB --batch B --out P
      The deploy net with its Input layer replaced by a TEST-phase Data layer on LMDB (batch B,
      pixels scaled by 1/256 as in training), for `moka extract`.
  opencv    --deploy D --weights W --inputs data.npy --batch B --threads T [--compare prob.npy]
      OpenCV dnn's forward throughput on the same deploy net: the inputs (N x C x H x W float32,
      as `moka extract --blobs=data` saved them) go through the net B at a time; prints
      "opencv_images_per_s X" and, with --compare, the largest difference from moka's outputs.
"""
import argparse
import re
import sys
import time


def make_net(args):
    text = open(args.deploy).read()
    # The deploy net's Input layer: the first "layer {" block whose type is "Input".
    blocks = list(re.finditer(r"layer\s*\{", text))
    for match in blocks:
        depth, end = 0, None
        for i in range(match.start(), len(text)):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    end = i + 1
                    break
        block = text[match.start():end]
        if re.search(r'type:\s*"Input"', block):
            top = re.search(r'top:\s*"([^"]+)"', block).group(1)
            data = (
                'layer {\n  name: "data"\n  type: "Data"\n'
                f'  top: "{top}"\n'
                "  include { phase: TEST }\n"
                "  transform_param { scale: 0.00390625 }\n"
                f'  data_param {{ source: "{args.source}" batch_size: {args.batch} backend: LMDB }}\n'
                "}"
            )
            text = text[:match.start()] + data + text[end:]
            break
    else:
        sys.exit(f"{args.deploy}: no Input layer to replace")
    with open(args.out, "w") as out:
        out.write(text)


def opencv(args):
    import cv2
    import numpy as np

    cv2.setNumThreads(args.threads)
    inputs = np.load(args.inputs)
    net = cv2.dnn.readNetFromCaffe(args.deploy, args.weights)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    count = inputs.shape[0] - inputs.shape[0] % args.batch
    batches = [np.ascontiguousarray(inputs[i:i + args.batch]) for i in range(0, count, args.batch)]
    # One untimed batch: OpenCV allocates and picks its kernels on the first forward.
    net.setInput(batches[0])
    net.forward()
    outputs = []
    start = time.perf_counter()
    for batch in batches:
        net.setInput(batch)
        outputs.append(net.forward().copy())
    seconds = time.perf_counter() - start
    print(f"opencv_images_per_s {count / seconds:.1f}")
    if args.compare:
        theirs = np.concatenate(outputs).reshape(count, -1)
        ours = np.load(args.compare)[:count].reshape(count, -1)
        print(f"max_abs_diff {np.abs(theirs - ours).max():.3g}")
        print(f"same_argmax {np.mean(theirs.argmax(1) == ours.argmax(1)):.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    net = sub.add_parser("make-net")
    net.add_argument("--deploy", required=True)
    net.add_argument("--source", required=True)
    net.add_argument("--batch", type=int, required=True)
    net.add_argument("--out", required=True)
    bench = sub.add_parser("opencv")
    bench.add_argument("--deploy", required=True)
    bench.add_argument("--weights", required=True)
    bench.add_argument("--inputs", required=True)
    bench.add_argument("--batch", type=int, required=True)
    bench.add_argument("--threads", type=int, default=1)
    bench.add_argument("--compare")
    args = parser.parse_args()
    if args.command == "make-net":
        make_net(args)
    else:
        opencv(args)


if __name__ == "__main__":
    main()
