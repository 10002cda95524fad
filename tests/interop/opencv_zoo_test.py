#!/usr/bin/python3
"""Every zoo model's deploy net runs in moka and agrees with OpenCV's dnn module.

For each models/NAME/deploy.prototxt (batch cut to 1):
  1. `moka time --iterations=1` builds the net and runs a forward and backward pass;
  2. `moka init_weights --calibrate` writes random weights (scaled so that activations stay of
     order one, BatchNorm statistics close to the true ones) as a .caffemodel;
  3. `moka forward` runs a random input; cv2.dnn.readNetFromCaffe loads the same prototxt and
     caffemodel and runs the same input;
  4. the class probabilities must agree within 1e-4 (absolute), and the logits before the
     Softmax within 1e-3 relative to their largest magnitude.
Needs no download. Exits 77 (skipped) without cv2 or numpy. MOKA_ZOO_MODELS=a,b limits the
models (default: all).
"""
import os
import re
import subprocess
import sys
import tempfile
import time
import zlib

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
# Float32 sums in a different order drift apart over 150 layers (ResNet-152: ~3e-4 of the
# logits' range), so the logits get a looser, relative bound; the probabilities must meet 1e-4.
LOGIT_TOLERANCE = 1e-3


def run(args):
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}{result.stderr[-3000:]}")
    return result


def batch_of_one(deploy):
    """The deploy text with the Input layer's first dimension set to 1."""
    text, count = re.subn(r"(input_param\s*\{\s*shape\s*:?\s*\{\s*dim\s*:\s*)\d+", r"\g<1>1", deploy,
                          count=1)
    if count != 1:
        raise RuntimeError("no Input layer with a shape")
    shape = [int(d) for d in re.search(r"input_param\s*\{\s*shape\s*:?\s*\{([^}]*)\}", text)
             .group(1).replace("dim:", " ").split()]
    return text, shape


def logits_layer(deploy):
    """The layer whose output feeds the final Softmax "prob" (named like its top blob)."""
    match = re.search(r'layer\s*\{\s*name:\s*"prob"\s*type:\s*"Softmax"\s*bottom:\s*"([^"]+)"', deploy)
    return match.group(1) if match else None


def models():
    wanted = [m for m in os.environ.get("MOKA_ZOO_MODELS", "").split(",") if m]
    names = sorted(d for d in os.listdir(os.path.join(ROOT, "models"))
                   if os.path.exists(os.path.join(ROOT, "models", d, "deploy.prototxt")))
    return [n for n in names if not wanted or n in wanted]


def check(name, tmp):
    deploy, shape = batch_of_one(open(os.path.join(ROOT, "models", name, "deploy.prototxt")).read())
    model = os.path.join(tmp, f"{name}.prototxt")
    open(model, "w").write(deploy)
    weights = os.path.join(tmp, f"{name}.caffemodel")
    run([MOKA, "time", f"--model={model}", "--iterations=1"])
    run([MOKA, "init_weights", f"--model={model}", f"--output={weights}", "--calibrate", "--seed=7"])

    rng = np.random.default_rng(zlib.crc32(name.encode()))
    data = rng.standard_normal(shape).astype(np.float32)
    np.save(os.path.join(tmp, "in.npy"), data)
    logits = logits_layer(deploy)
    blobs = ["prob"] + ([logits] if logits else [])
    files = [os.path.join(tmp, f"out{i}.npy") for i in range(len(blobs))]
    run([MOKA, "forward", f"--model={model}", f"--weights={weights}", f"--input={tmp}/in.npy",
         f"--output={','.join(files)}", f"--blob={','.join(blobs)}"])
    outputs = {blob: np.load(path) for blob, path in zip(blobs, files)}

    net = cv2.dnn.readNetFromCaffe(model, weights)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    net.setInput(data)
    names = list(outputs)
    cv_outputs = dict(zip(names, net.forward(names)))

    prob_diff = float(np.abs(cv_outputs["prob"].reshape(-1) - outputs["prob"].reshape(-1)).max())
    ok = prob_diff <= TOLERANCE
    detail = f"prob max abs diff {prob_diff:.2e}"
    if logits:
        ours, theirs = outputs[logits].reshape(-1), cv_outputs[logits].reshape(-1)
        scale = max(1.0, float(np.abs(theirs).max()))
        logit_diff = float(np.abs(ours - theirs).max()) / scale
        ok = ok and logit_diff <= LOGIT_TOLERANCE
        detail += f"; {logits} max diff {logit_diff:.2e} (relative to max |x| {scale:.2f})"
    spread = float(outputs["prob"].max() - outputs["prob"].min())
    detail += f"; prob spread {spread:.3f}"
    return ok, detail


def main():
    if not os.path.exists(MOKA):
        print(f"SKIP: no moka binary at {MOKA}")
        sys.exit(SKIP)
    tmp = tempfile.mkdtemp(prefix="moka_zoo_opencv_")
    failures = []
    for name in models():
        deploy = open(os.path.join(ROOT, "models", name, "deploy.prototxt")).read()
        inputs = len(re.findall(r'type:\s*"Input"', deploy))
        shapes = re.findall(r"input_param\s*\{\s*shape\s*:?\s*\{([^}]*)\}", deploy)
        if inputs != 1 or len(shapes) != 1 or len(shapes[0].split("dim:")) != 5:
            print(f"SKIP {name}: not a single 4-D image input (this test feeds one image batch)")
            continue
        start = time.time()
        try:
            ok, detail = check(name, tmp)
        except Exception as error:  # one model's failure must not hide the others' results
            ok, detail = False, str(error).strip()
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail} ({time.time() - start:.1f} s)", flush=True)
        if not ok:
            failures.append(name)
        for leftover in os.listdir(tmp):
            os.remove(os.path.join(tmp, leftover))
    os.rmdir(tmp)
    if failures:
        raise SystemExit(f"FAIL: {', '.join(failures)}")
    print("PASS")


if __name__ == "__main__":
    main()
