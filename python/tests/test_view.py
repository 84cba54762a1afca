"""attnflow.view / attnflow.show: the `attnflow view` page from Python — the same document as
the CLI's, from a store or from arrays, shown inline in Jupyter through an iframe srcdoc.
(The page itself is tested in a browser by tests/view/view_browser_test.py.)"""
from __future__ import annotations

import base64
import html
import json
import re
import sys
import types

import numpy as np
import pytest

from conftest import attnflow, cli_error, random_gradient, random_stack

pytestmark = pytest.mark.skipif(not attnflow.HAVE_VIEW, reason="attnflow built without d3")


def page_data(page):
    m = re.search(r'<script type="application/json" id="attnflow-data">(.*?)</script>', page, re.S)
    assert m, "no data element"
    return json.loads(m.group(1))


def floats(text):
    return np.frombuffer(base64.b64decode(text), dtype="<f4")


def write_store(path):
    with attnflow.Store.create(str(path), layers=2, heads=3, model="python-test",
                               tokenizer="hand") as s:
        for k, tokens in enumerate([["[CLS]", "a", "b", "c"], ["[CLS]", "x", "y"]]):
            n = len(tokens)
            s.append(tokens, random_stack(2, 3, n, seed=k), random_gradient(2, 3, n, seed=5 + k))


def test_arrays_page_matches_analyze():
    a = random_stack(3, 2, 5, seed=3)
    g = random_gradient(3, 2, 5, seed=4)
    v = attnflow.view(tuple(a[l][None] for l in range(3)), tokens=list("abcde"), gradient=g,
                      target=-1)
    data = page_data(v.html)
    e = data["examples"][0]
    assert (e["layers"], e["heads"], e["tokens"], e["target"]) == (3, 2, list("abcde"), 4)
    names = [m["name"] for m in e["methods"]]
    assert names == ["raw", "rollout", "flow", "grad-rollout"]
    want = attnflow.analyze(a, g, methods=names, rows=[4])
    for m in e["methods"]:
        np.testing.assert_allclose(floats(m["values"]).reshape(3, 5), want[m["name"]].row(4),
                                   rtol=1e-6, atol=1e-7)
    # 8-bit levels, each row scaled to its maximum: within half a step of the input.
    scale = floats(e["attention"]["scale"]).reshape(3, 2, 5, 1)
    q = np.frombuffer(base64.b64decode(e["attention"]["q"]), dtype=np.uint8).reshape(a.shape)
    assert np.all(np.abs(q * scale / 255 - a) <= scale / 255 / 2 + 1e-7)


def test_store_page_is_the_cli_page(cli, tmp_path):
    path = tmp_path / "s.h5"
    write_store(path)
    cli("view", path, "--examples", "1,0", "-o", tmp_path / "cli.html", "-m", "raw,rollout",
        "--bits", "16", "-q")
    v = attnflow.view(path, examples=[1, 0], methods="raw,rollout", bits=16)
    cli_page = (tmp_path / "cli.html").read_text(encoding="utf-8")
    assert page_data(v.html) == page_data(cli_page)
    assert v.html == cli_page
    saved = v.save(tmp_path / "py.html")
    assert open(saved, encoding="utf-8").read() == cli_page


def test_repr_html_is_an_iframe_with_the_page():
    v = attnflow.view(random_stack(2, 2, 4, seed=1), tokens=["<b>", "&", '"', "'"])
    frame = v._repr_html_()
    m = re.fullmatch(r'<iframe srcdoc="([^"]*)" style="[^"]*" title="attnflow view"></iframe>',
                     frame)
    assert m, frame[:200]
    assert html.unescape(m.group(1)) == v.html


def test_show_displays_in_ipython(monkeypatch):
    shown = []
    display = types.ModuleType("IPython.display")
    display.display = shown.append
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: object()
    ipython.display = display
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    v = attnflow.show(random_stack(2, 2, 4, seed=2))
    assert shown == [v] and isinstance(v, attnflow.View)
    ipython.get_ipython = lambda: None  # plain Python: nothing displayed
    attnflow.show(random_stack(2, 2, 4, seed=2))
    assert shown == [v]


def test_errors_are_the_cli_messages(cli, tmp_path):
    path = tmp_path / "s.h5"
    write_store(path)
    for kwargs, args in [({"example": 7}, ["--example", "7"]), ({}, []),
                         ({"example": 0, "bits": 12}, ["--example", "0", "--bits", "12"]),
                         ({"example": 0, "target": 9}, ["--example", "0", "-t", "9"])]:
        with pytest.raises(attnflow.Error) as e:
            attnflow.view(path, **kwargs)
        assert str(e.value) == cli_error(cli, "view", path, *args, "-o", tmp_path / "x.html")
    with pytest.raises(attnflow.Error, match="tokens: 2 labels for the 4 tokens"):
        attnflow.view(random_stack(2, 2, 4), tokens=["a", "b"])
    with pytest.raises(attnflow.Error, match="attention arrays are one example"):
        attnflow.view(random_stack(2, 2, 4), example=0)
