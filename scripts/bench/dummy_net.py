#!/usr/bin/python3
"""Rewrites a Caffe train_val prototxt for a speed measurement: the TRAIN-phase data layer becomes a
DummyData layer of constant values (filled once, so no input pipeline is timed), TEST-only layers
go, and the batch size is set. Standard library only, so that it runs on a bare CUDA machine.

usage: dummy_net.py IN.prototxt OUT.prototxt --batch N --shape C,H,W
       dummy_net.py DEPLOY.prototxt OUT.prototxt --batch N --deploy
  (--deploy: a deploy net keeps its Input layer; only the batch (first) dimension changes)
"""
import argparse
import re


def top_level_blocks(text):
    """Splits the file into (is_layer, text) pieces; layer blocks are matched by brace depth."""
    pieces, i = [], 0
    pattern = re.compile(r"^\s*layers?\s*\{", re.M)
    while True:
        match = pattern.search(text, i)
        if not match:
            pieces.append((False, text[i:]))
            return pieces
        pieces.append((False, text[i:match.start()]))
        depth, j = 0, match.end() - 1
        while True:
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            elif text[j] == '"':
                j = text.index('"', j + 1)
            j += 1
        pieces.append((True, text[match.start():j + 1]))
        i = j + 1


def layer_type(block):
    match = re.search(r'\btype\s*:\s*"?(\w+)"?', block)
    return match.group(1) if match else ""


def phases(block):
    include = re.search(r"include\s*\{([^}]*)\}", block)
    return re.findall(r"phase\s*:\s*(\w+)", include.group(1)) if include else []


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("output")
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--shape", help="C,H,W of one image")
    parser.add_argument("--deploy", action="store_true")
    args = parser.parse_args()
    if args.deploy:
        with open(args.source) as source:
            text = source.read()
        # The first dim of every Input shape, or the first legacy input_dim.
        text, count = re.subn(r"(shape\s*:?\s*\{\s*dim\s*:\s*)\d+", rf"\g<1>{args.batch}", text)
        if count == 0:
            text, count = re.subn(r"(input_dim\s*:\s*)\d+", rf"\g<1>{args.batch}", text, count=1)
        if count == 0:
            raise SystemExit(f"dummy_net: no input shape in {args.source}")
        with open(args.output, "w") as output:
            output.write(text)
        return
    if not args.shape:
        parser.error("--shape is required unless --deploy")
    channels, height, width = (int(v) for v in args.shape.split(","))

    dummy = f'''layer {{
  name: "data"
  type: "DummyData"
  top: "data"
  top: "label"
  dummy_data_param {{
    shape {{ dim: {args.batch} dim: {channels} dim: {height} dim: {width} }}
    shape {{ dim: {args.batch} }}
    data_filler {{ type: "constant" value: 0.5 }}
    data_filler {{ type: "constant" value: 0 }}
  }}
}}'''
    out, replaced = [], False
    with open(args.source) as source:
        pieces = top_level_blocks(source.read())
    for is_layer, block in pieces:
        if not is_layer:
            out.append(block)
            continue
        if phases(block) == ["TEST"]:
            continue
        if layer_type(block) in ("Data", "ImageData", "DATA", "IMAGE_DATA"):
            if not replaced:
                out.append(dummy)
                replaced = True
            continue
        out.append(block)
    if not replaced:
        raise SystemExit(f"dummy_net: no data layer in {args.source}")
    text = re.sub(r"\n{3,}", "\n\n", "".join(out))
    with open(args.output, "w") as output:
        output.write(text)


if __name__ == "__main__":
    main()
