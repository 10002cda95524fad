#!/usr/bin/python3
"""Makes the running-sum data of models/lstm_sequence as two LMDBs of Caffe Datums.

Each of N streams is an endless run of sequences of random length. At every step a sequence shows
a digit d in [0, K) and the label is the sum of the digits since the sequence began, modulo K: a
model must remember what it has seen since the start, which a model without recurrence cannot.
The streams are cut into chunks of T steps; one Datum holds one chunk of all streams, as a
T x N x (K + 2) array of bytes (channels = T, height = N, width = K + 2):
  [one-hot digit (K values), cont (0 at a sequence start, else 1), label].
Sequences run on across chunks (Caffe's recurrent layers carry their state from one batch to
the next), and every stream starts a sequence at the first step of the first chunk, so reading
the database again from the beginning starts clean.

Usage: /usr/bin/python3 data/lstm_sequence.py [--out data/lstm_sequence]
"""
import argparse
import os
import shutil

import lmdb
import numpy as np


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def datum(channels, height, width, data):
    """Serialises a caffe.Datum (fields 1-4) holding uint8 data."""
    return (b"\x08" + varint(channels) + b"\x10" + varint(height) + b"\x18" + varint(width) +
            b"\x22" + varint(len(data)) + data)


def make_chunks(count, steps, streams, classes, min_len, max_len, rng):
    chunks = np.zeros((count, steps, streams, classes + 2), dtype=np.uint8)
    remaining = np.zeros(streams, dtype=np.int64)
    total = np.zeros(streams, dtype=np.int64)
    for c in range(count):
        for t in range(steps):
            for n in range(streams):
                cont = 1
                if remaining[n] == 0:
                    remaining[n] = rng.randint(min_len, max_len + 1)
                    total[n] = 0
                    cont = 0
                digit = rng.randint(classes)
                total[n] = (total[n] + digit) % classes
                remaining[n] -= 1
                chunks[c, t, n, digit] = 1
                chunks[c, t, n, classes] = cont
                chunks[c, t, n, classes + 1] = total[n]
    return chunks


def write_lmdb(path, chunks):
    if os.path.exists(path):
        shutil.rmtree(path)
    env = lmdb.open(path, map_size=1 << 30)
    with env.begin(write=True) as txn:
        for i, chunk in enumerate(chunks):
            steps, streams, width = chunk.shape
            txn.put(b"%08d" % i, datum(steps, streams, width, chunk.tobytes()))
    env.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="data/lstm_sequence")
    parser.add_argument("--steps", type=int, default=20, help="T, time steps per chunk")
    parser.add_argument("--streams", type=int, default=16, help="N, streams per chunk")
    parser.add_argument("--classes", type=int, default=5, help="K, the modulus")
    parser.add_argument("--min-length", type=int, default=5)
    parser.add_argument("--max-length", type=int, default=60)
    parser.add_argument("--train-chunks", type=int, default=2000)
    parser.add_argument("--test-chunks", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1701)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.RandomState(args.seed)
    shape = (args.steps, args.streams, args.classes, args.min_length, args.max_length)
    write_lmdb(os.path.join(args.out, "train_lmdb"),
               make_chunks(args.train_chunks, *shape, rng))
    write_lmdb(os.path.join(args.out, "test_lmdb"), make_chunks(args.test_chunks, *shape, rng))
    print("wrote %d train and %d test chunks of %d steps x %d streams to %s" %
          (args.train_chunks, args.test_chunks, args.steps, args.streams, args.out))


if __name__ == "__main__":
    main()
