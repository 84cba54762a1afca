#!/usr/bin/python3
"""Compares two output trees of scripts/compare_outputs.sh file by file.

Text files byte for byte after masking run times ("in 1.23 s", "12.3 examples/s", dates) and the
tree's own path; HDF5 files object by object (datasets by value, attributes except "created"
and "attnflow_version"); PNG/PDF are skipped (their gnuplot scripts and data are compared).
Exit status 1 and a list of differences when anything differs."""

import os
import re
import sys

import h5py
import numpy as np

MASKED_ATTRS = {"created", "attnflow_version"}
TIME = re.compile(rb"\d+(\.\d+)?\s*(s|ms|examples/s|ex/s)\b|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


ROOTS = []  # the two trees' absolute paths, masked as <root>


def mask(data):
    for root in ROOTS:
        data = data.replace(root.encode(), b"<root>")
    return TIME.sub(b"<t>", data)


def text(path):
    with open(path, "rb") as f:
        return mask(f.read())


def attr_value(f, v):
    """An attribute comparable across files: references by the name of their target, times in
    strings masked."""
    if isinstance(v, h5py.Reference):
        return ("ref", f[v].name if v else None)
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    if isinstance(v, str):
        return mask(v.encode()).decode()
    return np.asarray(v).tolist()


def h5_items(path):
    out = {}
    with h5py.File(path, "r") as f:
        def attrs(name, obj):
            for k, v in obj.attrs.items():
                if k not in MASKED_ATTRS:
                    out[f"{name}@{k}"] = attr_value(f, v)

        def visit(name, obj):
            attrs(name, obj)
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]
        attrs("/", f)
        f.visititems(visit)
    return out


def same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and (
            np.array_equal(a, b) or (a.dtype.kind == "f" and np.array_equal(a, b, equal_nan=True)))
    return a == b


def main(old, new):
    old, new = os.path.abspath(old), os.path.abspath(new)
    ROOTS[:] = [old, new]
    diffs, compared = [], 0
    files = set()
    for root in (old, new):
        for d, _, names in os.walk(root):
            files |= {os.path.relpath(os.path.join(d, n), root) for n in names}
    for rel in sorted(files):
        a, b = os.path.join(old, rel), os.path.join(new, rel)
        if not (os.path.exists(a) and os.path.exists(b)):
            diffs.append(f"{rel}: only in {'old' if os.path.exists(a) else 'new'}")
            continue
        if rel.endswith((".png", ".pdf")):
            continue
        compared += 1
        if rel.endswith((".h5", ".hdf5")):
            x, y = h5_items(a), h5_items(b)
            for k in sorted(set(x) | set(y)):
                if k not in x or k not in y or not same(x[k], y[k]):
                    diffs.append(f"{rel}: {k} differs")
        elif text(a) != text(b):
            diffs.append(f"{rel}: differs (diff {a} {b})")
    for d in diffs:
        print("DIFF", d)
    print(f"compared {compared} files: {len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
