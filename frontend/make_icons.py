"""Renders the app icons (PNG) of the web app manifest from static/icons/icon.svg.

Run once when icon.svg changes, then commit the PNGs:

    .venv/bin/python frontend/make_icons.py

Chromium draws the SVG (the browser the tests already use: no SVG library to add). The
"any" icons are the SVG as it is; the maskable one fills the whole square with the brand
colour and keeps the drawing inside the central 80 % safe zone, since launchers crop it
to a circle or a rounded square.
"""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

ICONS = Path(__file__).resolve().parent / "static" / "icons"
CHROMIUM = os.environ.get("FACTEUR_CHROMIUM", "/usr/bin/chromium")
BRAND = "#1d3f8f"

PAGE = """<!doctype html><html><head><style>
html, body {{ margin: 0; padding: 0; width: {size}px; height: {size}px; overflow: hidden; background: {background}; }}
img {{ display: block; width: {inner}px; height: {inner}px; margin: {margin}px; }}
</style></head><body><img src="data:image/svg+xml;base64,{svg}" alt=""></body></html>"""


async def render(page, svg: str, size: int, maskable: bool) -> bytes:
    inner = round(size * 0.8) if maskable else size
    html = PAGE.format(size=size, inner=inner, margin=(size - inner) // 2, svg=svg,
                       background=BRAND if maskable else "transparent")
    await page.set_viewport_size({"width": size, "height": size})
    await page.set_content(html)
    await page.wait_for_function("document.images[0].complete")
    return await page.screenshot(omit_background=not maskable, clip={"x": 0, "y": 0, "width": size, "height": size})


async def main() -> None:
    from playwright.async_api import async_playwright

    svg = base64.b64encode((ICONS / "icon.svg").read_bytes()).decode()
    targets = [("icon-192.png", 192, False), ("icon-512.png", 512, False), ("icon-maskable-512.png", 512, True)]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        page = await browser.new_page(device_scale_factor=1)
        for name, size, maskable in targets:
            (ICONS / name).write_bytes(await render(page, svg, size, maskable))
            print(f"{ICONS / name} ({size}×{size})")
        await browser.close()


if __name__ == "__main__":
    asyncio.run(main())
