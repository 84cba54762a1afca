#!/usr/bin/python3
"""Bit-for-bit comparison of two attnflow HDF5 stores (h5py), for the resume tests.

Every group, dataset and attribute must be there in both files with the same value: numeric
datasets byte for byte (dtype, shape and raw bytes, so -0.0 and NaN payloads count), strings as
strings, object references by the name of their target. Masked: the attributes `created` and
`attnflow_version` (times, version), the `source` attribute's creation time, and the commit
`index` datasets, which hold object-header addresses (a killed writer leaves unreferenced space
behind, so addresses move; the examples they point at are compared by name).

    store_compare.py A.h5 B.h5      exit 0 when equal, else 1 and the differences"""

import re
import sys

import h5py
import numpy as np

MASKED_ATTRS = {"created", "attnflow_version"}
CREATED = re.compile(r"\(created [^)]*\)")


def _attr(f, v):
    if isinstance(v, h5py.Reference):
        return ("ref", f[v].name if v else None)
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    if isinstance(v, str):
        return CREATED.sub("(created <t>)", v)
    a = np.asarray(v)
    if a.dtype.kind == "O":
        return [_attr(f, x) for x in a.ravel().tolist()]
    return (a.dtype.str, a.shape, a.tobytes())


def _dataset(d):
    if h5py.check_string_dtype(d.dtype) is not None:
        return ("str", d.shape, [s for s in d.asstr()[()].ravel().tolist()])
    a = d[()]
    return (a.dtype.str, a.shape, np.ascontiguousarray(a).tobytes())


def items(path):
    """{object path or path@attribute: comparable value} of a store."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            for k, v in obj.attrs.items():
                if k not in MASKED_ATTRS:
                    out[f"/{name}@{k}".replace("//", "/")] = _attr(f, v)
            if isinstance(obj, h5py.Dataset):
                if name.rsplit("/", 1)[-1] != "index":
                    out["/" + name] = _dataset(obj)
            else:
                out["/" + name + "/"] = "group"
        visit("", f)
        f.visititems(visit)
    return out


def differences(a, b, limit=20, items=items):
    """Names of the objects that differ between stores a and b (at most `limit`), and the count
    (`items`: how a store is read, e.g. following external links: tests/apps/shard_compare.py)."""
    x, y = items(a), items(b)
    diffs = []
    for k in sorted(set(x) | set(y)):
        if k not in x:
            diffs.append(f"{k}: only in {b}")
        elif k not in y:
            diffs.append(f"{k}: only in {a}")
        elif x[k] != y[k]:
            diffs.append(f"{k}: differs")
    return diffs[:limit], len(diffs)


def max_abs_difference(a, b):
    """Largest |a - b| over the float datasets both stores have (for reports)."""
    worst = 0.0
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        def visit(name, obj):
            nonlocal worst
            if isinstance(obj, h5py.Dataset) and obj.dtype.kind == "f" and name in fb:
                other = fb[name]
                if other.shape == obj.shape:
                    d = np.abs(obj[()].astype(np.float64) - other[()].astype(np.float64))
                    if d.size:
                        worst = max(worst, float(np.nanmax(d)))
        fa.visititems(visit)
    return worst


def main(argv, items=items, doc=__doc__):
    if len(argv) != 3:
        print(doc)
        return 2
    shown, count = differences(argv[1], argv[2], items=items)
    for d in shown:
        print(d)
    print(f"{count} differences")
    return 1 if count else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
