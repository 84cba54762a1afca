"""A small Chrome DevTools Protocol driver for headless Chromium, over --remote-debugging-pipe
(NUL-separated JSON on file descriptors 3 and 4), so it needs nothing beyond the Python
standard library. The browser runs with every network path closed: a dead proxy, no host
resolution, no background services.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time


def find_chromium():
    """The Chromium executable ($CHROMIUM, else chromium / chromium-browser in PATH) or None."""
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class CdpError(RuntimeError):
    pass


class Browser:
    """One headless Chromium with one page (self.session)."""

    def __init__(self, chromium, width=1280, height=900, download_dir=None):
        self.profile = tempfile.mkdtemp(prefix="attnflow-chromium-")
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # Park the child's ends above 10, so that dup2 onto 3 and 4 cannot clobber them.
        keep_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
        keep_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
        os.close(to_browser_r)
        os.close(from_browser_w)

        def child_fds():
            os.dup2(keep_r, 3)
            os.dup2(keep_w, 4)

        args = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
            "--user-data-dir=" + self.profile, f"--window-size={width},{height}",
            "--hide-scrollbars",
            # No request can leave the machine: a proxy that refuses, no name resolution.
            "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
            "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--disable-default-apps", "--metrics-recording-only", "--mute-audio",
            "--disable-dev-shm-usage", "about:blank",
        ]
        self.log = open(os.path.join(self.profile, "chromium.log"), "wb")
        self.proc = subprocess.Popen(args, preexec_fn=child_fds, pass_fds=(3, 4),
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log)
        os.close(keep_r)
        os.close(keep_w)
        self.out = to_browser_w
        self.inp = from_browser_r
        self.next_id = 0
        self.replies = {}
        self.events = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        if download_dir:
            self.call("Browser.setDownloadBehavior",
                      {"behavior": "allow", "downloadPath": download_dir,
                       "eventsEnabled": True})
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.page(domain + ".enable")
        self.page("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def _read(self):
        buf = b""
        while True:
            chunk = os.read(self.inp, 1 << 20)
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                with self.cond:
                    if "id" in msg:
                        self.replies[msg["id"]] = msg
                    else:
                        self.events.append(msg)
                    self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def call(self, method, params=None, session=None, timeout=60):
        """Sends one command and returns its result; raises CdpError on a protocol error."""
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self.out, data):]
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.next_id not in self.replies:
                left = deadline - time.monotonic()
                if left <= 0 or getattr(self, "closed", False):
                    raise CdpError(f"{method}: no reply within {timeout} s")
                self.cond.wait(left)
            reply = self.replies.pop(self.next_id)
        if "error" in reply:
            raise CdpError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def page(self, method, params=None, timeout=60):
        return self.call(method, params, self.session, timeout)

    def wait_event(self, method, since=0, timeout=60, match=lambda e: True):
        """The first event `method` at index >= since that satisfies `match`."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.events[since:]:
                    if e.get("method") == method and match(e.get("params", {})):
                        return e["params"]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CdpError(f"no {method} event within {timeout} s")
                self.cond.wait(left)

    def events_of(self, method):
        with self.cond:
            return [e["params"] for e in self.events if e.get("method") == method]

    def eval(self, expression, timeout=60):
        """Value of a JavaScript expression (JSON-serialisable); raises on an exception."""
        r = self.page("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": True}, timeout)
        if "exceptionDetails" in r:
            raise CdpError(f"{expression[:80]}...: {r['exceptionDetails']}")
        return r["result"].get("value")

    def navigate(self, url, ready="document.body && document.body.dataset.ready === '1'",
                 timeout=60):
        """Loads `url` and waits until `ready` is true; returns the seconds it took."""
        start = time.monotonic()
        mark = len(self.events)
        self.page("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired", since=mark, timeout=timeout)
        self.wait_for(ready, timeout)
        return time.monotonic() - start

    def wait_for(self, expression, timeout=30):
        deadline = time.monotonic() + timeout
        while not self.eval(f"!!({expression})"):
            if time.monotonic() > deadline:
                raise CdpError(f"timed out waiting for {expression}")
            time.sleep(0.05)

    def center(self, selector):
        """Viewport coordinates of the centre of the first element matching `selector`
        (scrolled into view)."""
        r = self.eval(f"""(() => {{
            const e = document.querySelector({json.dumps(selector)});
            if (!e) return null;
            e.scrollIntoView({{block: 'center', inline: 'center'}});
            const b = e.getBoundingClientRect();
            return [b.left + b.width / 2, b.top + b.height / 2];
        }})()""")
        if r is None:
            raise CdpError(f"no element {selector}")
        return r

    def mouse(self, kind, x, y, **extra):
        self.page("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, **extra})

    def click(self, selector, count=1):
        x, y = self.center(selector)
        self.mouse("mouseMoved", x, y)
        for c in range(1, count + 1):
            self.mouse("mousePressed", x, y, button="left", clickCount=c)
            self.mouse("mouseReleased", x, y, button="left", clickCount=c)

    KEYS = {"ArrowDown": 40, "ArrowUp": 38, "Home": 36, "End": 35}

    def press(self, selector, key):
        """Focuses the element matching `selector` and presses `key` (a name of KEYS), as a
        user choosing in a <select> with the keyboard."""
        self.eval(f"document.querySelector({json.dumps(selector)}).focus()")
        code = self.KEYS[key]
        for kind in ("rawKeyDown", "keyUp"):
            self.page("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": key,
                                                 "windowsVirtualKeyCode": code})

    def hover(self, selector):
        x, y = self.center(selector)
        self.mouse("mouseMoved", x, y)

    def screenshot(self, path, selectors=None):
        """PNG of the whole page, or of the smallest box around the elements matching each of
        `selectors` (plus a 12-pixel margin)."""
        params = {"format": "png", "captureBeyondViewport": True}
        if selectors:
            box = self.eval(f"""(() => {{
                let x0 = Infinity, y0 = Infinity, x1 = 0, y1 = 0;
                for (const s of {json.dumps(list(selectors))}) {{
                    for (const e of document.querySelectorAll(s)) {{
                        const b = e.getBoundingClientRect();
                        x0 = Math.min(x0, b.left + scrollX); y0 = Math.min(y0, b.top + scrollY);
                        x1 = Math.max(x1, b.right + scrollX); y1 = Math.max(y1, b.bottom + scrollY);
                    }}
                }}
                return [Math.max(0, x0 - 12), Math.max(0, y0 - 12), x1 - x0 + 24, y1 - y0 + 24];
            }})()""")
        else:
            m = self.page("Page.getLayoutMetrics")["cssContentSize"]
            box = [0, 0, m["width"], m["height"]]
        params["clip"] = {"x": box[0], "y": box[1], "width": box[2], "height": box[3],
                          "scale": 1}
        # Within the viewport, capture without re-laying out the page (which would end hovers).
        inner = self.eval("[innerWidth, innerHeight]")
        params["captureBeyondViewport"] = (box[0] + box[2] > inner[0] or
                                           box[1] + box[3] > inner[1])
        data = self.page("Page.captureScreenshot", params)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except CdpError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.out)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
