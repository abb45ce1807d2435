"""Refresh the README's screenshots in assets/ from a running app (python scripts/screenshots.py [URL]).

Uses Debian's chromium through playwright (never `playwright install`); Chinese needs Debian's fonts-noto-cjk.
Screenshots are PNGs kept small by a narrow viewport and clipping: search, similarity, fine-tune (after generating
triplets) and search at phone width (390×844, the first screen: on a phone the results come right under the query box).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ASSETS = Path(__file__).resolve().parent.parent / "assets"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _search(page, url: str, query: str) -> None:
    """Open the app and search for `query` (Enter), waiting for the result cards."""
    page.goto(url)
    box = page.locator("#query textarea, #query input").first
    box.wait_for(timeout=60_000)
    # After a start the page says the other models are warming up in the background: shoot the page as it then stays.
    page.wait_for_function("() => !(document.querySelector('#warming')?.innerText || '').trim()", timeout=180_000)
    box.fill(query)
    box.press("Enter")
    page.wait_for_selector("#result-cards .hit-name", timeout=60_000)
    page.wait_for_timeout(500)


def main(url: str = "http://127.0.0.1:7860/") -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 900, "height": 1100}, device_scale_factor=1)
        _search(page, url, "寻找一款K7")
        page.screenshot(path=str(ASSETS / "screenshot_search.png"), clip={"x": 0, "y": 0, "width": 900, "height": 1100})
        page.get_by_role("tab", name="相似度 Similarity").click()
        page.get_by_role("button", name="热力图 Heatmap").click()
        page.wait_for_selector("#similarity-plot .heatmaplayer", timeout=60_000)
        page.wait_for_timeout(500)
        page.screenshot(path=str(ASSETS / "screenshot_similarity.png"), clip={"x": 0, "y": 0, "width": 900, "height": 1100})
        page.get_by_role("tab", name="微调 Fine-tune").click()
        page.get_by_role("button", name="从目录生成三元组 Generate triplets from the catalog").click()
        page.wait_for_function("() => document.querySelector('#check-report').innerText.includes('Generated')", timeout=60_000)
        page.wait_for_timeout(500)
        page.screenshot(path=str(ASSETS / "screenshot_finetune.png"), clip={"x": 0, "y": 0, "width": 900, "height": 1100})
        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1, is_mobile=True, has_touch=True)
        _search(phone, url, "跑步时戴不会掉的耳机")
        phone.screenshot(path=str(ASSETS / "screenshot_phone.png"), clip={"x": 0, "y": 0, "width": 390, "height": 844})
        browser.close()
    for png in sorted(ASSETS.glob("screenshot_*.png")):
        print(f"{png.name}: {png.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(*sys.argv[1:])
