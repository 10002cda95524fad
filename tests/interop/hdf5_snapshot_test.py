#!/usr/bin/python3
"""HDF5 snapshots in Caffe's layout, checked with h5py, and HDF5 files written by h5py read by moka.

1. `moka train` with snapshot_format: HDF5 writes <prefix>_iter_N.caffemodel.h5 (group data/<layer>
   with datasets "0", "1") and .solverstate.h5 (iter, learned_net, current_step, history/<i>).
2. Weights written by h5py (float64 datasets) load through --weights=X.caffemodel.h5: with
   base_lr 0 the first logged loss equals the loss numpy computes from those weights.
3. A solver state written by h5py (variable-length learned_net string) resumes with --snapshot.
Exits 77 (skipped) without h5py or numpy.
"""
import os
import re
import subprocess
import sys
import tempfile

SKIP = 77
try:
    import h5py
    import numpy as np
except ImportError as error:  # pragma: no cover
    print(f"SKIP: {error}; install python3-h5py and python3-numpy")
    sys.exit(SKIP)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MOKA = os.environ.get("MOKA_CLI") or os.path.join(ROOT, "build", "moka")

NET = """
name: "tiny"
layer { name: "data" type: "DummyData" top: "data" top: "label"
        dummy_data_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 2 }
          data_filler { type: "constant" value: 0.5 }
          data_filler { type: "constant" value: -0.25 } } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "out"
        inner_product_param { num_output: 2
          weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "constant" value: 0.1 } } }
layer { name: "loss" type: "EuclideanLoss" bottom: "out" bottom: "label" top: "loss" }
"""


def run(args):
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout, result.stderr)
        sys.exit(f"FAIL: {' '.join(args)} exited {result.returncode}")
    return result.stdout + result.stderr


def write_solver(directory, name, fields):
    net = os.path.join(directory, "net.prototxt")
    with open(net, "w") as f:
        f.write(NET)
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(f'net: "{net}"\nsolver_mode: CPU\nrandom_seed: 3\nlr_policy: "fixed"\n'
                f'display: 1\nsnapshot_format: HDF5\n{fields}\n')
    return path


def main():
    if not os.path.exists(MOKA):
        print(f"SKIP: no moka binary at {MOKA}")
        return SKIP
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "snap")
        solver = write_solver(tmp, "solver.prototxt",
                              f'base_lr: 0.1 momentum: 0.9 max_iter: 2 snapshot: 2 '
                              f'snapshot_prefix: "{prefix}"')
        run([MOKA, "train", f"--solver={solver}"])

        model = prefix + "_iter_2.caffemodel.h5"
        state = prefix + "_iter_2.solverstate.h5"
        with h5py.File(model, "r") as f:
            assert set(f.keys()) == {"data"}, list(f.keys())
            assert set(f["data"].keys()) == {"data", "ip", "loss"}, list(f["data"].keys())
            assert f["data/ip/0"].shape == (2, 3) and f["data/ip/0"].dtype == np.float32
            assert f["data/ip/1"].shape == (2,)
            weight = f["data/ip/0"][()]
            bias = f["data/ip/1"][()]
        with h5py.File(state, "r") as f:
            assert int(f["iter"][0]) == 2
            learned = f["learned_net"][()]
            learned = learned.decode() if isinstance(learned, bytes) else learned
            assert learned == model, learned
            assert int(f["current_step"][0]) == 0
            assert sorted(f["history"].keys()) == ["0", "1"]
            assert f["history/0"].shape == (2, 3)
        assert np.all(np.isfinite(weight)) and np.all(np.isfinite(bias))

        # Weights from h5py, in float64: the first loss must be numpy's.
        rng = np.random.default_rng(7)
        w = rng.normal(size=(2, 3))
        b = rng.normal(size=(2,))
        weights = os.path.join(tmp, "mine.caffemodel.h5")
        with h5py.File(weights, "w") as f:
            f.create_dataset("data/ip/0", data=w)
            f.create_dataset("data/ip/1", data=b)
            f.create_group("data/absent_layer")
        x = np.full((2, 3), 0.5)
        label = np.full((2, 2), -0.25)
        expected = np.sum((x @ w.T + b - label) ** 2) / 2 / 2
        frozen = write_solver(tmp, "frozen.prototxt", "base_lr: 0 max_iter: 1")
        log = run([MOKA, "train", f"--solver={frozen}", f"--weights={weights}"])
        losses = re.findall(r"Iteration 0.*loss = ([-+0-9.eE]+)", log)
        assert losses, log
        assert abs(float(losses[0]) - expected) <= 1e-5 * max(1.0, abs(expected)), (losses, expected)

        # A solver state from h5py (variable-length string) resumes at its iteration.
        resume = os.path.join(tmp, "mine.solverstate.h5")
        with h5py.File(resume, "w") as f:
            f.create_dataset("iter", data=np.array([5], dtype=np.int32))
            f.create_dataset("current_step", data=np.array([0], dtype=np.int32))
            f["learned_net"] = weights
            f.create_dataset("history/0", data=np.zeros((2, 3), dtype=np.float32))
            f.create_dataset("history/1", data=np.zeros((2,), dtype=np.float32))
        prefix2 = os.path.join(tmp, "resumed")
        more = write_solver(tmp, "more.prototxt",
                            f'base_lr: 0.1 momentum: 0.9 max_iter: 6 snapshot_prefix: "{prefix2}"')
        log = run([MOKA, "train", f"--solver={more}", f"--snapshot={resume}"])
        assert os.path.exists(prefix2 + "_iter_6.caffemodel.h5"), log
        assert "Iteration 5" in log, log
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
