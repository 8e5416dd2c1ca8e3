"""Look at a report in a real browser: headless Chromium measures the page and takes screenshots.

:func:`check_page` opens a copy of the page with a small script that, once everything has loaded,
measures what a reader would meet at a given window width: how wide the page is (a table running off
the right edge makes it wider than the window), which images failed to load, which in-page links lead
nowhere, and which numbers are written in scientific notation. :func:`screenshot` saves what the window
shows, optionally scrolled to an anchor. Both drive the browser from the command line (``--dump-dom``,
``--screenshot``); nothing is downloaded. :func:`find_chromium` says whether a browser is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["find_chromium", "check_page", "screenshot", "CHROMIUM_FLAGS"]

#: Flags for a headless run that touches no network service and leaves no profile behind.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--mute-audio")

_MARK = "__progression_check"
_SCRIPT = """<script>
window.addEventListener("load", () => {
  const width = window.innerWidth;
  const images = [...document.images];
  const anchors = [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute("href").slice(1));
  const broken = anchors.filter(id => id && !document.getElementById(decodeURIComponent(id)));
  const wide = [...document.querySelectorAll("body *")].filter(e => {
      const r = e.getBoundingClientRect(); return r.width > 0 && r.right > width + 0.5 && !e.closest(".tbox");
  }).slice(0, 8).map(e => e.tagName + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : ""));
  const text = document.body.innerText;
  const scientific = (text.match(/\\b\\d(?:[.,]\\d+)?e[+-]\\d+\\b/gi) || []).slice(0, 20);
  const boxes = [...document.querySelectorAll(".tbox")];
  const out = {
    window_width: width,
    scroll_width: document.documentElement.scrollWidth,
    images: images.length,
    images_loaded: images.filter(i => i.complete && i.naturalWidth > 0).length,
    widest_image: Math.max(0, ...images.map(i => i.getBoundingClientRect().width)),
    anchors: anchors.length,
    broken_anchors: broken,
    overflowing: wide,
    scientific: scientific,
    tables: document.querySelectorAll("table").length,
    scrolling_tables: boxes.filter(b => b.scrollWidth > b.clientWidth + 1).length,
    headings: [...document.querySelectorAll("h2")].map(h => h.textContent.trim()),
  };
  const pre = document.createElement("pre");
  pre.id = "%s";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>""" % _MARK


def find_chromium() -> str | None:
    """The path of an installed Chromium (``chromium``, ``chromium-browser``, ``google-chrome``), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    browser = find_chromium()
    if browser is None:
        raise FileNotFoundError("no Chromium found (install Debian's chromium)")
    with tempfile.TemporaryDirectory(prefix="progression-chromium-") as profile:
        return subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout, check=False)


def check_page(path: str | Path, *, width: int = 1280, height: int = 900, timeout: float = 120) -> dict:
    """Measure a page as headless Chromium lays it out in a window ``width`` pixels wide.

    Returns
    -------
    dict
        ``window_width``, ``scroll_width`` (wider than the window: something runs off the right edge),
        ``images`` and ``images_loaded``, ``widest_image``, ``anchors`` and ``broken_anchors`` (in-page
        links to no element), ``overflowing`` (elements past the right edge, outside a table's own scroll
        box), ``scientific`` (numbers in scientific notation in the page's text), ``tables``,
        ``scrolling_tables`` (tables that scroll inside their box) and ``headings``.

    Raises
    ------
    FileNotFoundError
        When no Chromium is installed.
    RuntimeError
        When the page could not be measured.
    """
    page = Path(path).read_text(encoding="utf-8")
    marked = page.replace("</body>", _SCRIPT + "</body>") if "</body>" in page else page + _SCRIPT
    with tempfile.TemporaryDirectory(prefix="progression-page-") as folder:
        copy = Path(folder) / "page.html"
        copy.write_text(marked, encoding="utf-8")
        done = _run([f"--window-size={width},{height}", "--virtual-time-budget=10000", "--dump-dom",
                     copy.as_uri()], timeout)
    found = re.search(rf'<pre id="{_MARK}">(.*?)</pre>', done.stdout, flags=re.S)
    if not found:
        raise RuntimeError(f"Chromium did not measure the page (exit {done.returncode}): {done.stderr[-2000:]}")
    import html

    return json.loads(html.unescape(found.group(1)))


def screenshot(path: str | Path, png: str | Path, *, width: int = 1280, height: int = 900, anchor: str | None = None,
               timeout: float = 120) -> Path:
    """Save what a ``width`` x ``height`` window shows of a page (scrolled to ``anchor`` when given)."""
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    page = Path(path).read_text(encoding="utf-8")
    if anchor:  # the page from the anchor on: what a reader sees after following a link to it
        found = re.search(rf'<[a-z0-9]+[^>]*\bid="{re.escape(anchor)}"', page)
        body = page.find("<main>")
        if not found or body < 0:
            raise ValueError(f"no element with id {anchor!r} in {path}")
        page = page[:body + len("<main>")] + page[found.start():]
    with tempfile.TemporaryDirectory(prefix="progression-page-") as folder:
        copy = Path(folder) / "page.html"
        copy.write_text(page, encoding="utf-8")
        url = copy.as_uri()
        _run([f"--window-size={width},{height}", "--virtual-time-budget=5000", f"--screenshot={png}", url], timeout)
    if not png.exists():
        raise RuntimeError(f"Chromium wrote no screenshot of {path}")
    return png
