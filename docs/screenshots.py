"""Take the screenshots in docs/workbench.md from the demo project (fictional people only).

    python docs/screenshots.py          # writes docs/img/workbench-*.png

Builds the demo project in a temporary folder, starts the workbench on a free port and
drives Debian's Chromium (``/usr/bin/chromium``) with Playwright, as the browser tests do.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
OUT = ROOT / "docs" / "img"


def main() -> None:
    import fieldkit
    from fieldkit.coding import autocode
    from fieldkit.demo import build_demo
    from serve_support import chromium_context, running_server

    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        result = build_demo(Path(tmp) / "demo")
        path = Path(result.project) if hasattr(result, "project") else Path(tmp) / "demo" / "project"
        project = fieldkit.open(path)
        try:
            autocode.run_autocoder(project, "keywords", all_records=True)
            notes = project.list("observation", stage="fieldnote")
            briefing = notes[0].id
            transcript = next(n.id for n in notes if n.body.startswith("[00:"))
        finally:
            project.close()
        with running_server(path, coder="coder-a") as (base, token), chromium_context() as context:
            page = context.new_page()
            page.goto(f"{base}/?token={token}")
            page.screenshot(path=OUT / "workbench-home.png")

            page.goto(f"{base}/doc/{briefing}")
            page.wait_for_selector("body[data-ready]")
            box = page.evaluate("""() => {
                for (const s of document.querySelectorAll('#body span[data-u]')) {
                    const i = s.firstChild.data.indexOf('went quiet for a moment');
                    if (i < 0) continue;
                    const r = document.createRange(); r.setStart(s.firstChild, i); r.setEnd(s.firstChild, i + 23);
                    const a = r.getClientRects()[0]; return {x1: a.left + 1, x2: a.right - 1, y: (a.top + a.bottom) / 2};
                }}""")
            page.mouse.move(box["x1"], box["y"])
            page.mouse.down()
            page.mouse.move(box["x2"], box["y"], steps=5)
            page.mouse.up()
            page.keyboard.press("c")
            page.keyboard.type("silen")
            page.screenshot(path=OUT / "workbench-code-picker.png")
            page.keyboard.press("Escape")

            page.goto(f"{base}/doc/{transcript}")
            page.wait_for_selector("body[data-ready]")
            page.screenshot(path=OUT / "workbench-transcript.png")

            page.goto(f"{base}/compare/{briefing}?a=coder-a&b=coder-b")
            page.wait_for_selector("body[data-ready]")
            page.screenshot(path=OUT / "workbench-compare.png", full_page=True)

            page.goto(f"{base}/review")
            page.wait_for_selector("body[data-ready]")
            page.screenshot(path=OUT / "workbench-review.png")

            page.goto(f"{base}/review?anonymise=1&pending=1")
            page.wait_for_selector("body[data-ready]")
            page.screenshot(path=OUT / "workbench-anonymise.png")

            page.goto(f"{base}/search?q=panel")
            page.screenshot(path=OUT / "workbench-search.png")
    for png in sorted(OUT.glob("workbench-*.png")):
        print(png.relative_to(ROOT))


if __name__ == "__main__":
    main()
