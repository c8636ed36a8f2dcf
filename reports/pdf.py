"""Printing the HTML report to PDF through Chromium (Playwright's page.pdf)."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from common.config import Config


class PdfError(RuntimeError):
    pass


def html_to_pdf(html_path: Path, pdf_path: Path, cfg: Config | None = None,
                timeout_s: float = 120.0) -> Path:
    """Print ``html_path`` (a self-contained page) to ``pdf_path``; raise PdfError on failure."""
    errors: list[BaseException] = []

    def work() -> None:
        try:
            from common.browser import launched

            with launched(cfg.crawl.browser if cfg else "") as browser:
                page = browser.new_page()
                # The report needs nothing from the network; refuse anything it might ask for.
                page.route("**/*", lambda route: route.continue_()
                           if route.request.url.startswith(("file:", "data:")) else route.abort())
                page.goto(Path(html_path).resolve().as_uri(), wait_until="load",
                          timeout=timeout_s * 1000)
                page.pdf(path=str(pdf_path), format="A4", print_background=True,
                         prefer_css_page_size=True,
                         margin={"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"})
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread below
            errors.append(exc)

    # Playwright's sync API refuses to run inside an asyncio loop; a thread has none.
    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(timeout_s + 30)
    if worker.is_alive():
        raise PdfError(f"printing {html_path} to PDF did not finish within {timeout_s:.0f} s")
    if errors:
        raise PdfError(f"printing {html_path} to PDF failed: {errors[0]}") from errors[0]
    return pdf_path
