#!/usr/bin/python3
"""A caffemodel written by `moka train` loads in OpenCV's dnn module and gives moka's outputs.

Trains LeNet briefly on a small synthetic MNIST-format set (so the test needs no download), then
runs the deploy net on 100 test images in moka (`moka test`, which prints every output element)
and in cv2.dnn, and compares: max abs difference <= 1e-4. Exits 77 (skipped) without cv2.
"""
import gzip
import os
import re
import struct
import subprocess
import sys
import tempfile

SKIP = 77
try:
    import cv2
    import numpy as np
except ImportError as error:  # pragma: no cover
    print(f"SKIP: {error}; install python3-opencv and python3-numpy")
    sys.exit(SKIP)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MOKA = os.environ.get("MOKA_CLI") or os.path.join(ROOT, "build", "moka")


def write_idx(path, images, labels_path, labels):
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">IIII", 2051, len(images), 28, 28))
        f.write(images.astype(np.uint8).tobytes())
    with gzip.open(labels_path, "wb") as f:
        f.write(struct.pack(">II", 2049, len(labels)))
        f.write(labels.astype(np.uint8).tobytes())


def synthetic_digits(count, seed):
    """Class k lights up a band of rows, plus noise: learnable, and spread over [0, 255]."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=count)
    images = rng.integers(0, 80, size=(count, 28, 28))
    for i, k in enumerate(labels):
        images[i, 2 * k + 3: 2 * k + 7, 4:24] += 150
    return np.clip(images, 0, 255), labels


def run(args, **kw):
    result = subprocess.run(args, capture_output=True, text=True, **kw)
    if result.returncode != 0:
        print(result.stdout, result.stderr)
        raise SystemExit(f"command failed: {' '.join(args)}")
    return result


def main():
    tmp = tempfile.mkdtemp(prefix="moka_opencv_")
    train_images, train_labels = synthetic_digits(640, 1)
    test_images, test_labels = synthetic_digits(100, 2)
    write_idx(f"{tmp}/train-images.gz", train_images, f"{tmp}/train-labels.gz", train_labels)
    write_idx(f"{tmp}/test-images.gz", test_images, f"{tmp}/test-labels.gz", test_labels)
    run([MOKA, "convert_mnist", f"{tmp}/train-images.gz", f"{tmp}/train-labels.gz", f"{tmp}/train_lmdb"])
    run([MOKA, "convert_mnist", f"{tmp}/test-images.gz", f"{tmp}/test-labels.gz", f"{tmp}/test_lmdb"])

    net = open(os.path.join(ROOT, "models/lenet/lenet_train_test.prototxt")).read()
    net = re.sub(r'source: "[^"]*train_lmdb"', f'source: "{tmp}/train_lmdb"', net)
    net = re.sub(r'source: "[^"]*test_lmdb"', f'source: "{tmp}/test_lmdb"', net)
    open(f"{tmp}/train_test.prototxt", "w").write(net)
    open(f"{tmp}/solver.prototxt", "w").write(f"""
net: "{tmp}/train_test.prototxt"
test_iter: 1
test_interval: 1000
base_lr: 0.01
momentum: 0.9
weight_decay: 0.0005
lr_policy: "inv"
gamma: 0.0001
power: 0.75
display: 20
max_iter: 60
snapshot_prefix: "{tmp}/lenet"
solver_mode: CPU
random_seed: 3
""")
    run([MOKA, "train", f"--solver={tmp}/solver.prototxt"])
    weights = f"{tmp}/lenet_iter_60.caffemodel"
    assert os.path.exists(weights), "moka train wrote no caffemodel"

    # moka's deploy outputs: the deploy layers fed by a Data layer over the same 100 images.
    deploy = open(os.path.join(ROOT, "models/lenet/deploy.prototxt")).read()
    data_layer = f"""layer {{ name: "data" type: "Data" top: "data"
  transform_param {{ scale: 0.00390625 }}
  data_param {{ source: "{tmp}/test_lmdb" batch_size: 100 backend: LMDB }} }}
"""
    body = re.sub(r'layer\s*\{\s*name:\s*"data"\s*type:\s*"Input".*?\}\s*\}\s*\}', "", deploy,
                  count=1, flags=re.S)
    assert body != deploy, "deploy.prototxt has no Input layer named data"
    open(f"{tmp}/eval.prototxt", "w").write(data_layer + body)
    result = run([MOKA, "test", f"--model={tmp}/eval.prototxt", f"--weights={weights}",
                  "--iterations=1"])
    values = [float(v) for v in re.findall(r"Batch 0, prob = ([-0-9.eE+]+)", result.stderr)]
    assert len(values) == 1000, f"expected 1000 prob values from moka test, got {len(values)}"
    moka_prob = np.array(values, dtype=np.float64).reshape(100, 10)

    cv_net = cv2.dnn.readNetFromCaffe(os.path.join(ROOT, "models/lenet/deploy.prototxt"), weights)
    blob = (test_images.astype(np.float32) * 0.00390625).reshape(100, 1, 28, 28)
    cv_net.setInput(blob)
    cv_prob = cv_net.forward().reshape(100, 10)

    diff = np.abs(cv_prob - moka_prob).max()
    agree = (cv_prob.argmax(1) == moka_prob.argmax(1)).mean()
    print(f"max abs difference moka vs OpenCV dnn over 100 images: {diff:.3e}; argmax agreement {agree:.2f}")
    if diff > 1e-4:
        raise SystemExit("FAIL: outputs differ by more than 1e-4")
    print("PASS")


if __name__ == "__main__":
    main()
