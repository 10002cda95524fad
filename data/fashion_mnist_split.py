#!/usr/bin/python3
"""Copies the images of a range of classes from an LMDB of Caffe Datums into a new LMDB.

The labels first..last become 0..(last - first), so a net with (last - first + 1) outputs can
learn them; at most --per-class images of each class are kept, the first ones in database order
(Fashion-MNIST's files are already in random order, so the classes stay interleaved). Keys are
"%08d" from 0, as convert_mnist writes them. The Datum bytes are parsed here with a small
protobuf reader (python protobuf is not needed): every field but the label is copied unchanged.

Usage:
  /usr/bin/python3 data/fashion_mnist_split.py SRC_LMDB DST_LMDB --first=5 --last=9 [--per-class=N]
"""
import argparse
import os
import shutil
import sys

import lmdb

# caffe.Datum field numbers (proto/moka.proto).
LABEL_FIELD = 5
VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


def read_varint(buf, pos):
    value = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 10 bytes")


def write_varint(value):
    # int32 fields hold negatives as their 64-bit two's complement (10 bytes).
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def split_fields(buf):
    """Returns [(field_number, wire_type, raw_bytes_of_the_whole_field, value)]."""
    fields = []
    pos = 0
    while pos < len(buf):
        start = pos
        tag, pos = read_varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if wire == VARINT:
            value, pos = read_varint(buf, pos)
        elif wire == FIXED64:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == LENGTH_DELIMITED:
            length, pos = read_varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == FIXED32:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        if pos > len(buf):
            raise ValueError("field %d runs past the end of the record" % number)
        fields.append((number, wire, buf[start:pos], value))
    return fields


def datum_label(fields):
    label = None
    for number, wire, _, value in fields:
        if number == LABEL_FIELD and wire == VARINT:
            label = value
    if label is None:
        return 0  # proto2 default
    if label >= 1 << 63:
        label -= 1 << 64
    return label


def with_label(fields, label):
    body = b"".join(raw for number, _, raw, _ in fields if number != LABEL_FIELD)
    return body + bytes([LABEL_FIELD << 3 | VARINT]) + write_varint(label)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", help="source LMDB of Datums")
    parser.add_argument("dst", help="LMDB to create (replaced if it exists)")
    parser.add_argument("--first", type=int, required=True, help="first class to keep")
    parser.add_argument("--last", type=int, required=True, help="last class to keep")
    parser.add_argument("--per-class", type=int, default=0,
                        help="keep at most this many images of each class (0: all)")
    args = parser.parse_args()
    if args.last < args.first:
        parser.error("--last must not be below --first")
    if args.per_class < 0:
        parser.error("--per-class must not be negative")
    if not os.path.isdir(args.src):
        parser.error("no LMDB at %s (run data/fashion_mnist.sh first)" % args.src)

    if os.path.exists(args.dst):
        shutil.rmtree(args.dst)
    os.makedirs(args.dst)
    classes = args.last - args.first + 1
    counts = [0] * classes
    src = lmdb.open(args.src, readonly=True, lock=False)
    dst = lmdb.open(args.dst, map_size=1 << 31)
    written = 0
    with src.begin() as rtxn, dst.begin(write=True) as wtxn:
        for _, value in rtxn.cursor():
            fields = split_fields(value)
            label = datum_label(fields) - args.first
            if not 0 <= label < classes:
                continue
            if args.per_class and counts[label] >= args.per_class:
                if all(c >= args.per_class for c in counts):
                    break
                continue
            counts[label] += 1
            wtxn.put(b"%08d" % written, with_label(fields, label))
            written += 1
    src.close()
    dst.close()
    print("%s: %d images of classes %d..%d (as labels 0..%d, per label %s)" %
          (args.dst, written, args.first, args.last, classes - 1, counts))
    if written == 0:
        shutil.rmtree(args.dst)
        sys.exit("no image of classes %d..%d in %s" % (args.first, args.last, args.src))


if __name__ == "__main__":
    main()
