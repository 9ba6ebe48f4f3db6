"""Look at the built site as a user would: screenshots of four pages in headless Chromium, and checks that their
figures load and their internal links lead to pages that exist.

    python3 -m pip install playwright && apt-get install chromium     # any Chromium; playwright drives it
    python3 docs/_ext/screenshots.py            # after the docs build: docs/images/site_*.png
    python3 docs/_ext/screenshots.py --site /tmp/html --out /tmp/shots --chromium /usr/bin/chromium

Not part of the build or the tests (it needs a browser); prints one line per page and exits 1 on a broken image or
link.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
PAGES = {
    "site_index": "index.html",
    "site_user_guide": "user_guide/sign_conventions.html",
    "site_api": "api/generated/skgan_ad.SkipGANomalyDetector.html",
    "site_gallery": "auto_examples/plot_gallery.html",
}


def main(argv=None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", type=Path, default=DOCS / "_build" / "html")
    parser.add_argument("--out", type=Path, default=DOCS / "images")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    args = parser.parse_args(argv)
    problems = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
        for name, rel in PAGES.items():
            page.goto((args.site / rel).resolve().as_uri())
            page.wait_for_load_state("load")
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.getAttribute('src'), e.complete && e.naturalWidth > 0])"
            )
            broken = [src for src, ok in images if not ok]
            links = page.eval_on_selector_all("a.reference.internal", "els => els.map(e => e.href)")
            missing = [h for h in links if h.startswith("file://") and not Path(h[7:].split("#")[0]).exists()]
            linked = page.eval_on_selector_all("a.reference code.xref", "els => els.length")
            print(
                f"{name}: {len(images)} images, {len(broken)} broken {broken}; {len(links)} internal links, "
                f"{len(missing)} to missing pages {missing[:5]}; {linked} linked code references"
            )
            problems += len(broken) + len(missing)
            if name == "site_gallery":  # the figures the example drew, with its printed output below them
                box = page.locator("img.sphx-glr-multi-img").first.bounding_box()
                clip = {"x": 0, "y": max(0, box["y"] - 60), "width": 1280, "height": 900}
                page.screenshot(path=str(args.out / f"{name}.png"), full_page=True, clip=clip)
            else:
                page.screenshot(path=str(args.out / f"{name}.png"))
        browser.close()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
