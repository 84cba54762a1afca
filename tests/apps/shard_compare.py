#!/usr/bin/python3
"""Object-by-object comparison of a merged store (attnflow merge, external links or --copy)
with the store of a single-process run, with h5py.

Like tests/soak/store_compare.py (whose value encodings it uses: datasets byte for byte,
strings as strings), but it walks the tree by names, so it follows HDF5 external links (h5py's
visititems does not). Masked besides store_compare's `created`, `attnflow_version`, the
`source` creation time and the commit `index` datasets: the `index` reference attribute of
numbered groups (a linked store has no commit index), and the root attributes that only merged
stores and shards carry (`merged_shards`, `shard_*`).

    shard_compare.py A.h5 B.h5      exit 0 when equal, else 1 and the differences"""

import os
import sys

import h5py

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "soak"))
import store_compare  # noqa: E402

MASKED_ATTRS = store_compare.MASKED_ATTRS | {"index", "merged_shards"}


def items(path):
    """{object path or path@attribute: comparable value}, following links."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            for k, v in obj.attrs.items():
                if k not in MASKED_ATTRS and not k.startswith("shard_"):
                    out[f"{name}@{k}"] = store_compare._attr(f, v)
            if isinstance(obj, h5py.Dataset):
                if name.rsplit("/", 1)[-1] != "index":
                    out[name] = store_compare._dataset(obj)
                return
            out[name + "/"] = "group"
            for key in obj.keys():
                visit(f"{name}/{key}", obj[key])  # obj[key] follows external links
        visit("", f)
    return out


def differences(a, b, limit=20):
    """As store_compare.differences, following links; also the number of objects of `a`."""
    shown, count = store_compare.differences(a, b, limit, items=items)
    return shown, count, len(items(a))


if __name__ == "__main__":
    sys.exit(store_compare.main(sys.argv, items=items, doc=__doc__))
