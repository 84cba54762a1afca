#!/usr/bin/env python3
"""`attnflow view` pages in a real browser (headless Chromium, no network).

Writes stores with h5py (docs/hdf5-schema.md), makes pages with the attnflow executable, and
checks:
  * the file: no external URL, no <script src>, <link>, <iframe>, <img> or CSS url(); tokens
    such as '</script>' cannot break out of the data;
  * the browser: no script error, every request is the page itself (or data:/blob:), no
    Content-Security-Policy violation;
  * head view, clicked through every layer and several head selections: every drawn line's
    weight (its stroke-opacity, read back from the DOM) equals the stored attention within
    half a quantisation step, and the lines drawn are exactly those above the threshold;
    hovering a token leaves only its lines;
  * model view: L x H thumbnails; a click enlarges that head, with the same check;
  * method view: each cell's value equals the numpy + networkx reference (tests/reference)
    or the stored derived run; values on hover; shared and per-method scales;
  * export: SVG and PNG files of each view are downloaded (PNG twice the SVG's size);
  * a 12-layer, 12-head, 128-token example: the page stays under the stated bound; the time
    to open it is printed.
With --demo STORE --screenshots DIR it also writes docs/images/view_{head,model,method}.png.
Exits 77 (ctest: skipped) when Chromium is not installed or attnflow was built without d3.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, os.path.join(SOURCE, "tests", "reference"), os.path.join(SOURCE, "notebooks")]

import h5py  # noqa: E402
import numpy as np  # noqa: E402

import cdp  # noqa: E402
import read_attnflow_h5 as nb  # noqa: E402
import reference as ref  # noqa: E402

SKIP = 77
# Size bound of a 12-layer, 12-head, 128-token example (docs/views.md): 8-bit and 16-bit.
BOUND_8 = 4 * 2**20
BOUND_16 = 7 * 2**20
# URLs a page may contain: XML namespace names (identifiers, never fetched) and d3's licence
# banner ("// https://d3js.org v5.16.0 Copyright ...").
ALLOWED_URLS = {
    "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xhtml", "http://www.w3.org/1999/xlink",
    "http://www.w3.org/2000/xmlns/", "http://www.w3.org/XML/1998/namespace", "https://d3js.org",
}
# Counts Content-Security-Policy violations (anything the page tried to fetch from outside).
WATCH_CSP = """window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.blockedURI));"""

failures = []
capture = None  # a list while a negative control runs: failures go there instead


def expect(cond, what):
    if cond:
        return
    if capture is not None:
        capture.append(what)
        return
    failures.append(what)
    print("FAIL:", what)


def must_fail(what, check):
    """Negative control: `check()` on deliberately wrong input must report a failure."""
    global capture
    capture = []
    try:
        check()
    finally:
        caught, capture = capture, None
    expect(caught, f"negative control: {what} went unnoticed")
    if caught:
        print(f"negative control ({what}) caught: {caught[0][:100]}")


def run(*args):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"failed ({r.returncode}): {' '.join(map(str, args))}\n{r.stdout}{r.stderr}")
    return r.stdout


# ------------------------------------------------------------------------------ stores
def softmax_attention(rng, shape, spread=2.0):
    logits = rng.normal(size=shape) * spread
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def write_store(path, token_lists, layers, heads, seed, gradient=True):
    """A per-head float32 store as docs/hdf5-schema.md describes it (no commit index)."""
    rng = np.random.default_rng(seed)
    root = dict(attnflow_schema_version=1, attnflow_version="h5py",
                created="2024-01-01T00:00:00Z", model="random", tokenizer="none",
                store_mode="per-head", attention_dtype="float32", gradient_dtype="float32",
                fusion="mean", layers=np.int32(layers), heads=np.int32(heads), causal=False,
                num_examples=np.int64(len(token_lists)))
    with h5py.File(path, "w") as f:
        f.attrs.update(root)
        for i, tokens in enumerate(token_lists):
            n = len(tokens)
            g = f.create_group(f"examples/{i:09d}")
            g["tokens"] = np.array(tokens, dtype=h5py.string_dtype())
            g["attention"] = softmax_attention(rng, (layers, heads, n, n))
            if gradient:
                g["gradient"] = rng.normal(size=(layers, heads, n, n)).astype(np.float32)


# ------------------------------------------------------------------------------- checks
def check_file(path, what):
    text = open(path, encoding="utf-8").read()
    urls = set(re.findall(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>()\\]*", text))
    expect(urls <= ALLOWED_URLS, f"{what}: external URLs in the page: {sorted(urls - ALLOWED_URLS)}")
    for pattern in (r"<script[^>]*\ssrc\s*=", r"<link\b", r"<iframe\b", r"<img\b", r"@import",
                    r"<object\b", r"<embed\b"):
        expect(not re.search(pattern, text, re.I), f"{what}: the page contains {pattern}")
    # CSS url(...) other than a reference into the page (url(#gradient)).
    expect(not re.search(r"(?<![\w.])url\(\s*['\"]?(?!#)", text),
           f"{what}: the page contains a CSS url() to outside")
    expect(text.count("</script>") == 3, f"{what}: {text.count('</script>')} </script> tags (3: "
           "data, d3, view)")
    return text


def lines_in(b, container, document="document"):
    return b.eval(f"""Array.from({document}.querySelectorAll('{container} line.attn')).map(e =>
        [+e.dataset.l, +e.dataset.h, +e.dataset.i, +e.dataset.j, +e.getAttribute('stroke-opacity'),
         e.getAttribute('visibility') !== 'hidden'])""")


def check_lines(lines, att, layer, heads, min_weight, bits, what):
    """Drawn lines against the stored attention att (L, H, n, n)."""
    levels = 255.0 if bits == 8 else 65535.0
    a = att[layer].astype(np.float64)
    step = a.max(axis=2, keepdims=True) / levels + np.zeros_like(a)  # per row
    drawn = np.zeros(a.shape, dtype=bool)
    if lines:
        arr = np.array(lines, dtype=np.float64)
        expect(np.all(arr[:, 0] == layer), f"{what}: lines of another layer")
        h, i, j = arr[:, 1].astype(int), arr[:, 2].astype(int), arr[:, 3].astype(int)
        expect(set(h.tolist()) <= set(heads), f"{what}: lines of unselected heads")
        err = np.abs(arr[:, 4] - np.minimum(1.0, a[h, i, j])) - (step[h, i, j] / 2 + 1e-6)
        expect(np.all(err <= 0), f"{what}: drawn weight differs from the stored attention by more "
               f"than half a step ({int((err > 0).sum())} of {len(lines)} lines)")
        drawn[h, i, j] = True
        expect(len(set(zip(h, i, j))) == len(lines), f"{what}: a line is drawn twice")
    selected = np.zeros(a.shape[0], dtype=bool)
    selected[list(heads)] = True
    must = selected[:, None, None] & (a >= min_weight + step) & (a > step)
    may = selected[:, None, None] & (a >= min_weight - step) & (a > 0)
    expect(not np.any(must & ~drawn), f"{what}: {int((must & ~drawn).sum())} lines above the "
           "threshold are missing")
    expect(not np.any(drawn & ~may), f"{what}: lines below the threshold are drawn")
    return len(lines)


def select(b, selector, value):
    b.eval(f"""(() => {{ const s = document.querySelector('{selector}'); s.value = '{value}';
        s.dispatchEvent(new Event('change')); }})()""")


def reference_maps(att, grad, target):
    """raw, rollout, flow, grad-rollout of row `target` at every layer (numpy + networkx)."""
    a_hat = ref.prepare(att)
    out = {"raw": ref.fuse(att)[:, target, :], "rollout": ref.rollout(a_hat)[:, target, :],
           "flow": ref.flow(a_hat)[1][:, target, :]}
    if grad is not None:
        out["grad-rollout"] = ref.grad_rollout(att, grad)[:, target, :]
    return out


def method_panels(b):
    return b.eval("""Array.from(document.querySelectorAll('#method-canvas g.method')).map(g => ({
        name: g.dataset.name,
        cells: Array.from(g.querySelectorAll('rect.cell')).map(c =>
            [+c.dataset.l, +c.dataset.t, +c.dataset.v])}))""")


def wait_downloads(folder, names, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(os.path.exists(os.path.join(folder, n)) for n in names):
            time.sleep(0.2)  # let the last write finish
            return True
        time.sleep(0.1)
    return False


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def check_export(b, downloads, view, base, what):
    mark = b.eval("document.body.dataset.exported || ''")
    b.click("#export")
    b.wait_for(f"document.body.dataset.exported === '{base}'", 20)
    expect(mark != base or True, "")
    ok = wait_downloads(downloads, [base + ".svg", base + ".png"])
    expect(ok, f"{what}: export did not download {base}.svg and {base}.png")
    if not ok:
        return None
    svg = ET.parse(os.path.join(downloads, base + ".svg")).getroot()
    w, h = float(svg.get("width")), float(svg.get("height"))
    expect(png_size(os.path.join(downloads, base + ".png")) == (int(2 * w), int(2 * h)),
           f"{what}: PNG is not twice the SVG's {w} x {h}")
    return svg


# --------------------------------------------------------------------------------- tests
def test_small(b, exe, work, downloads):
    tokens = [["[CLS]", "the", "</script><b>x", "a&b", '"q"', "naïve", "dog", "[SEP]"],
              ["[CLS]", "keys", "to", "the", "cabinet", "are", "on", "the", "table", "[SEP]"]]
    store = os.path.join(work, "small.h5")
    write_store(store, tokens, layers=3, heads=4, seed=7)
    # A derived run with rows 0 and 2: the method view shows its row-0 maps.
    run(exe, "analyze", store, "-m", "raw,rollout", "-t", "0,2", "--run", "stored", "-q")
    page = os.path.join(work, "small.html")
    run(exe, "view", store, "--examples", "0,1", "-o", page, "-q")
    check_file(page, "small page")
    with h5py.File(store, "r") as f:
        examples = [nb.example(f, i) for i in range(2)]
        stored = [nb.derived(f, "stored", i) for i in range(2)]

    mark = len(b.events)
    seconds = b.navigate("file://" + page)
    print(f"small page: opened in {seconds:.2f} s")
    att = examples[0]["attention"]
    L, H = att.shape[:2]
    min_weight = b.eval("+document.getElementById('min-weight').value")
    expect(abs(min_weight - 0.01) < 1e-12, f"default hide-below is {min_weight}")

    # Head view: every layer (the layer menu stepped with the keyboard), all heads; then head
    # selections by clicking.
    for layer in range(L):
        if layer > 0:
            b.press("#layer", "ArrowDown")
        expect(b.eval("document.getElementById('layer').value") == str(layer),
               f"layer menu at {layer + 1}")
        n = check_lines(lines_in(b, "#head-canvas"), att, layer, range(H), min_weight, 8,
                        f"head view layer {layer + 1}")
        expect(n > 0, f"head view layer {layer + 1}: no lines")
    b.click("#head-1 input")  # hide head 2 (0-based 1)
    check_lines(lines_in(b, "#head-canvas"), att, L - 1, [0, 2, 3], min_weight, 8,
                "head 2 unchecked")
    b.click("#head-2", count=2)  # double-click: head 3 alone
    check_lines(lines_in(b, "#head-canvas"), att, L - 1, [2], min_weight, 8, "head 3 alone")
    expect(b.eval("Array.from(document.querySelectorAll('#head-boxes input')).map(e => "
                  "e.checked).join()") == "false,false,true,false", "checkboxes after dblclick")
    b.click("#heads-all")
    lines = lines_in(b, "#head-canvas")
    check_lines(lines, att, L - 1, range(H), min_weight, 8, "all heads again")
    # Hover: only the token's lines stay visible.
    b.hover('#head-canvas g.token[data-side="query"][data-i="2"] text')
    shown = [x for x in lines_in(b, "#head-canvas") if x[5]]
    expect(shown and all(x[2] == 2 for x in shown) and
           len(shown) == sum(1 for x in lines if x[2] == 2), "hover on query token 2")
    b.hover('#head-canvas g.token[data-side="key"][data-i="5"] text')
    shown = [x for x in lines_in(b, "#head-canvas") if x[5]]
    expect(shown and all(x[3] == 5 for x in shown) and
           len(shown) == sum(1 for x in lines if x[3] == 5), "hover on key token 5")
    b.mouse("mouseMoved", 2, 2)
    expect(all(x[5] for x in lines_in(b, "#head-canvas")), "every line visible after hover")
    # Threshold.
    b.eval("""(() => { const e = document.getElementById('min-weight'); e.value = '0.2';
        e.dispatchEvent(new Event('change')); })()""")
    check_lines(lines_in(b, "#head-canvas"), att, L - 1, range(H), 0.2, 8, "hide below 0.2")
    b.eval("""(() => { const e = document.getElementById('min-weight'); e.value = '0.01';
        e.dispatchEvent(new Event('change')); })()""")
    svg = check_export(b, downloads, "head", f"attnflow-head-example0-layer{L}", "head export")
    if svg is not None:
        n_svg = len(svg.findall(".//{http://www.w3.org/2000/svg}line"))
        expect(n_svg == len(lines_in(b, "#head-canvas")), f"exported SVG has {n_svg} lines")

    # Model view.
    b.click("#tab-model")
    expect(b.eval("document.querySelectorAll('#model-canvas g.thumb').length") == L * H,
           "model view: L x H thumbnails")
    expect(b.eval("Array.from(document.querySelectorAll('#model-canvas g.thumb image')).every("
                  "e => e.getAttribute('href').startsWith('data:image/png'))"),
           "thumbnails are embedded PNGs")
    b.click('#model-canvas g.thumb[data-l="1"][data-h="3"]')
    check_lines(lines_in(b, "#model-canvas"), att, 1, [3], min_weight, 8, "enlarged layer 2 head 4")
    b.hover('#model-canvas g.token[data-side="query"][data-i="1"] text')
    shown = [x for x in lines_in(b, "#model-canvas") if x[5]]
    expect(shown and all(x[2] == 1 for x in shown), "model view: hover on query token 1")
    b.mouse("mouseMoved", 2, 2)
    check_export(b, downloads, "model", "attnflow-model-example0", "model export")

    # Method view.
    b.click("#tab-method")
    expected = reference_maps(att, examples[0]["gradient"], 0)
    for method in ("raw", "rollout"):
        d = stored[0][method]
        r = d["rows"].index(0)
        expected["stored: " + method] = d["maps"][:, r, :]
    panels = method_panels(b)
    names = [p["name"] for p in panels]
    expect(names == ["raw", "rollout", "flow", "grad-rollout", "stored: raw", "stored: rollout"],
           f"method panels {names}")
    for p in panels:
        want = expected.get(p["name"])
        if want is None:
            continue
        got = np.full(want.shape, np.nan)
        for layer, t, v in p["cells"]:
            got[layer - 1, t] = v
        expect(np.allclose(got, want, rtol=1e-6, atol=1e-7),
               f"method view {p['name']}: max error {np.nanmax(np.abs(got - want))}")
    b.hover('#method-canvas g.method[data-name="flow"] rect.cell[data-l="2"][data-t="3"]')
    tip = b.eval("document.getElementById('tooltip').textContent")
    want = expected["flow"][1, 3]
    expect(tip.startswith('flow · layer 2 · token 3 "a&b": ') and
           abs(float(tip.rsplit(": ", 1)[1]) - want) <= 1e-5 * max(1, abs(want)),
           f"tooltip '{tip}' (flow layer 2 token 3 = {want})")
    expect(b.eval("document.querySelectorAll('#method-canvas g.legend').length") == len(panels),
           "one legend per method (own scales)")
    b.click('input[name=scale][value=shared]')
    expect(b.eval("document.querySelectorAll('#method-canvas g.legend').length") == 1,
           "one legend (shared scale)")
    check_export(b, downloads, "method", "attnflow-method-example0", "method export")

    # The second example, chosen in the page.
    select(b, "#example", 1)
    b.click("#tab-head")
    labels = b.eval("Array.from(document.querySelectorAll('#head-canvas g.token[data-side=query] "
                    "text')).map(e => e.textContent)")
    expect(labels == tokens[1], f"example 1 tokens {labels}")
    check_lines(lines_in(b, "#head-canvas"), examples[1]["attention"], L - 1, range(H),
                min_weight, 8, "example 1 head view")
    b.click("#tab-method")
    expected = reference_maps(examples[1]["attention"], examples[1]["gradient"], 0)
    for p in method_panels(b):
        if p["name"] in expected:
            got = np.array([v for _, _, v in sorted(p["cells"])]).reshape(L, -1)
            expect(np.allclose(got, expected[p["name"]], rtol=1e-6, atol=1e-7),
                   f"example 1 method {p['name']}")
    check_browser(b, mark, page, "small page")

    # 16 bits: half a step of max/65535.
    page16 = os.path.join(work, "small16.html")
    run(exe, "view", store, "--example", "0", "-o", page16, "--bits", "16", "-q")
    check_file(page16, "16-bit page")
    mark = len(b.events)
    b.navigate("file://" + page16)
    for layer in range(L):
        select(b, "#layer", layer)
        check_lines(lines_in(b, "#head-canvas"), att, layer, range(H), min_weight, 16,
                    f"16-bit layer {layer + 1}")
    check_browser(b, mark, page16, "16-bit page")

    # Inside an iframe srcdoc, as attnflow.show puts it into Jupyter (View._repr_html_).
    framed = os.path.join(work, "framed.html")
    with open(framed, "w", encoding="utf-8") as f:
        f.write('<!DOCTYPE html><html><body><iframe style="width: 100%; height: 700px" srcdoc="' +
                html.escape(open(page16, encoding="utf-8").read(), quote=True) +
                '"></iframe></body></html>')
    mark = len(b.events)
    inner = "document.querySelector('iframe').contentDocument"
    b.navigate("file://" + framed, ready=f"{inner} && {inner}.body && "
               f"{inner}.body.dataset.ready === '1'")
    n = check_lines(lines_in(b, "#head-canvas", inner), att, 0, range(H), min_weight, 16,
                    "page in an iframe")
    expect(n > 0, "the page draws inside an iframe srcdoc")
    check_browser(b, mark, framed, "page in an iframe")

    # Negative controls: the checks above notice a 2 % error in the drawn weights, and an
    # external script in the file.
    text = open(page, encoding="utf-8").read()
    drawn = "fmt(Math.min(1, e[3]))"
    expect(text.count(drawn) == 1, "the page draws stroke-opacity as expected by the control")
    wrong = os.path.join(work, "wrong.html")
    with open(wrong, "w", encoding="utf-8") as f:
        f.write(text.replace(drawn, "fmt(Math.min(1, e[3] * 1.02))"))
    b.navigate("file://" + wrong)
    must_fail("weights 2 % too large", lambda: check_lines(
        lines_in(b, "#head-canvas"), att, 0, range(H), min_weight, 8, "tampered page"))
    with open(wrong, "w", encoding="utf-8") as f:
        f.write(text.replace("<head>", '<head><script src="https://cdn.example/d3.js"></script>'))
    must_fail("an external script", lambda: check_file(wrong, "tampered page"))


def check_browser(b, mark, page, what):
    """No script error, no request but the page (and data:/blob:), no CSP violation."""
    errors = [e for e in b.events[mark:] if e.get("method") == "Runtime.exceptionThrown"]
    expect(not errors, f"{what}: script errors {errors[:1]}")
    logs = [e["params"]["entry"] for e in b.events[mark:] if e.get("method") == "Log.entryAdded"
            and e["params"]["entry"]["level"] == "error"]
    expect(not logs, f"{what}: console errors {logs[:2]}")
    urls = [e["params"]["request"]["url"] for e in b.events[mark:]
            if e.get("method") == "Network.requestWillBeSent"]
    outside = [u for u in urls if u != "file://" + page and not u.startswith(("data:", "blob:"))]
    expect(not outside, f"{what}: requests {outside[:5]}")
    expect("file://" + page in urls, f"{what}: the page request was not seen")
    csp = b.eval("window.__csp")
    expect(csp == [], f"{what}: CSP violations {csp}")


def test_large(b, exe, work):
    """12 layers x 12 heads x 128 tokens: size bound and time to open."""
    store = os.path.join(work, "large.h5")
    write_store(store, [[f"t{i}" for i in range(128)]], layers=12, heads=12, seed=3,
                gradient=False)
    sizes = {}
    for bits in (8, 16):
        page = os.path.join(work, f"large{bits}.html")
        start = time.monotonic()
        run(exe, "view", store, "--example", "0", "-o", page, "--bits", bits, "-q", "-m",
            "raw,rollout,flow")
        made = time.monotonic() - start
        sizes[bits] = os.path.getsize(page)
        print(f"12x12x128 page, {bits} bits: {sizes[bits]} bytes "
              f"({sizes[bits] / 2**20:.2f} MiB), written in {made:.2f} s")
    expect(sizes[8] < BOUND_8, f"8-bit page {sizes[8]} bytes >= {BOUND_8}")
    expect(sizes[16] < BOUND_16, f"16-bit page {sizes[16]} bytes >= {BOUND_16}")
    page = os.path.join(work, "large8.html")
    check_file(page, "large page")
    times = []
    for _ in range(3):
        mark = len(b.events)
        times.append(b.navigate("file://" + page))
        check_browser(b, mark, page, "large page")
    in_page = b.eval("+document.body.dataset.openMs")
    print(f"12x12x128 page: opened (navigate -> head view drawn) in {sorted(times)[1]:.2f} s "
          f"(median of 3; the page's own decode + first drawing: {in_page} ms)")
    with h5py.File(store, "r") as f:
        att = nb.example(f, 0)["attention"]
    n = check_lines(lines_in(b, "#head-canvas"), att, 0, range(12), 0.01, 8, "large head view")
    print(f"12x12x128 page: {n} lines drawn in layer 1 (weights >= 0.01)")
    start = time.monotonic()
    b.click("#tab-model")
    b.wait_for("document.querySelectorAll('#model-canvas g.thumb').length === 144")
    print(f"12x12x128 page: model view (144 thumbnails) drawn in {time.monotonic() - start:.2f} s")


def screenshots(b, exe, work, demo, folder):
    os.makedirs(folder, exist_ok=True)
    page = os.path.join(work, "demo.html")
    run(exe, "view", demo, "--example", "0", "-o", page, "-q")
    check_file(page, "demo page")
    mark = len(b.events)
    b.navigate("file://" + page)
    content = ["header", ".view.active .controls", ".view.active svg.drawing"]
    select(b, "#layer", 0)
    b.click("#heads-none")
    b.click("#head-1 input")
    b.click("#head-2 input")
    b.screenshot(os.path.join(folder, "view_head.png"), content)
    b.click("#tab-model")
    b.click('#model-canvas g.thumb[data-l="0"][data-h="1"]')
    b.hover('#model-canvas g.token[data-side="query"][data-i="2"] text')
    b.screenshot(os.path.join(folder, "view_model.png"), content)
    b.mouse("mouseMoved", 2, 2)
    b.click("#tab-method")
    b.hover('#method-canvas g.method[data-name="flow"] rect.cell[data-l="3"][data-t="2"]')
    expect(b.eval("document.getElementById('tooltip').style.display") == "block",
           "demo method view: the tooltip is shown on hover")
    b.screenshot(os.path.join(folder, "view_method.png"), content + ["#tooltip"])
    check_browser(b, mark, page, "demo page")
    print("wrote", ", ".join(os.path.join(folder, f"view_{v}.png")
                             for v in ("head", "model", "method")))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--attnflow", required=True, help="the attnflow executable")
    p.add_argument("--workdir", default=None)
    p.add_argument("--chromium", default=None, help="default: $CHROMIUM or chromium in PATH")
    p.add_argument("--no-large", action="store_true", help="skip the 12x12x128 example")
    p.add_argument("--demo", help="a store of demo sentences (out/demo/demo.h5) for --screenshots")
    p.add_argument("--screenshots", help="folder for view_{head,model,method}.png of --demo")
    a = p.parse_args()
    chromium = a.chromium or cdp.find_chromium()
    if not chromium:
        print("SKIP: chromium not found (Debian: apt-get install chromium; or set $CHROMIUM)")
        return SKIP
    work = a.workdir or tempfile.mkdtemp(prefix="attnflow-view-")
    os.makedirs(work, exist_ok=True)
    probe = subprocess.run([a.attnflow, "view", os.path.join(work, "none.h5"), "--example", "0"],
                           capture_output=True, text=True)
    if "built without d3" in probe.stderr:
        print("SKIP:", probe.stderr.strip())
        return SKIP
    downloads = os.path.join(work, "downloads")
    os.makedirs(downloads, exist_ok=True)
    for f in os.listdir(downloads):
        os.remove(os.path.join(downloads, f))
    with cdp.Browser(chromium, width=1280, height=900, download_dir=downloads) as b:
        b.page("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_CSP})
        test_small(b, a.attnflow, work, downloads)
        if not a.no_large:
            test_large(b, a.attnflow, work)
        if a.demo and a.screenshots:
            screenshots(b, a.attnflow, work, a.demo, a.screenshots)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("ok: attnflow view in headless Chromium")
    return 0


if __name__ == "__main__":
    sys.exit(main())
