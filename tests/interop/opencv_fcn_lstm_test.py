#!/usr/bin/python3
"""moka-written caffemodels of an FCN-style net (Deconvolution + Crop) and of an LSTM net, loaded
by OpenCV's dnn module, give moka's outputs within 1e-4. (The ResNet-style case, BatchNorm + Scale
+ Eltwise, is covered by opencv_zoo_test.py's ResNets.)

OpenCV reads Caffe's LSTM with its own blob order (Wh, Wx, b) where Caffe writes (W_xc, b_c, W_hc),
so OpenCV 4.6 cannot run a Caffe LSTM; the LSTM case then reports OpenCV's refusal and is not
counted, and it is compared as soon as an OpenCV that supports it is installed.
Exits 77 (skipped) without cv2 or numpy.
"""
import os
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
TOLERANCE = 1e-4

FCN = """name: "fcn_style"
layer { name: "input" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 21 dim: 19 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 8 kernel_size: 3 pad: 1
    weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "gaussian" std: 0.1 } } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "score" type: "Convolution" bottom: "pool1" top: "score"
  convolution_param { num_output: 4 kernel_size: 1 weight_filler { type: "gaussian" std: 0.3 } } }
layer { name: "upscore" type: "Deconvolution" bottom: "score" top: "upscore"
  convolution_param { num_output: 4 kernel_size: 4 stride: 2 bias_term: false
    weight_filler { type: "gaussian" std: 0.3 } } }
layer { name: "crop" type: "Crop" bottom: "upscore" bottom: "data" top: "out" crop_param { axis: 2 offset: 1 } }
"""

# x is T x N x I x 1: OpenCV's Python binding takes a 3-D array for an image with channels.
LSTM = """name: "lstm_net"
layer { name: "input" type: "Input" top: "data" top: "cont"
  input_param { shape { dim: 5 dim: 2 dim: 4 dim: 1 } shape { dim: 5 dim: 2 } } }
layer { name: "lstm1" type: "LSTM" bottom: "data" bottom: "cont" top: "lstm1"
  recurrent_param { num_output: 6 weight_filler { type: "uniform" min: -0.5 max: 0.5 }
    bias_filler { type: "uniform" min: -0.3 max: 0.3 } } }
"""


def run(args):
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}{result.stderr[-3000:]}")


def moka_and_opencv(tmp, name, text, inputs):
    """Writes the net and its filler weights with moka, runs both programs on `inputs` (name ->
    array, in the net's input order) and returns (moka output, OpenCV output or the error)."""
    model = os.path.join(tmp, f"{name}.prototxt")
    weights = os.path.join(tmp, f"{name}.caffemodel")
    with open(model, "w") as out:
        out.write(text)
    run([MOKA, "init_weights", f"--model={model}", f"--output={weights}", "--seed=5"])
    paths = []
    for blob, value in inputs.items():
        paths.append(os.path.join(tmp, f"{name}_{blob}.npy"))
        np.save(paths[-1], value)
    result = os.path.join(tmp, f"{name}_out.npy")
    run([MOKA, "forward", f"--model={model}", f"--weights={weights}", f"--input={','.join(paths)}",
         f"--output={result}"])
    ours = np.load(result)
    try:
        net = cv2.dnn.readNetFromCaffe(model, weights)
        for blob, value in inputs.items():
            net.setInput(value, blob)
        theirs = net.forward()
    except cv2.error as error:
        lines = [line.strip(" >") for line in str(error).strip().splitlines()]
        return ours, " ".join(line for line in lines if line and "error:" not in line)
    return ours, theirs.reshape(ours.shape)


def main():
    if not os.path.exists(MOKA):
        print(f"FAIL: no moka binary at {MOKA}")
        return 1
    rng = np.random.default_rng(11)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        data = rng.standard_normal((2, 3, 21, 19)).astype(np.float32)
        ours, theirs = moka_and_opencv(tmp, "fcn", FCN, {"data": data})
        if isinstance(theirs, str):
            print(f"FAIL fcn_style: OpenCV refused it: {theirs}")
            failures += 1
        else:
            difference = float(np.abs(ours - theirs).max())
            ok = difference <= TOLERANCE and ours.shape == (2, 4, 21, 19)
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} fcn_style (Deconvolution + Crop): output {ours.shape}, "
                  f"max abs difference {difference:.3g}")

        x = rng.standard_normal((5, 2, 4, 1)).astype(np.float32)
        cont = np.ones((5, 2), np.float32)
        cont[0] = 0
        ours, theirs = moka_and_opencv(tmp, "lstm", LSTM, {"data": x, "cont": cont})
        if isinstance(theirs, str):
            print(f"n/a  lstm: OpenCV {cv2.__version__} cannot run Caffe's LSTM: {theirs}")
        else:
            difference = float(np.abs(ours - theirs).max())
            ok = difference <= TOLERANCE
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} lstm: output {ours.shape}, max abs difference {difference:.3g}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
