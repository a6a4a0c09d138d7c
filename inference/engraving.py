"""Engrave MusicXML to SVG with Verovio, keeping the note ids that ``inference.scores`` assigned."""

from __future__ import annotations

import re
from pathlib import Path

PAGE_WIDTH = 2100
"""Verovio page width in its units (tenths of a staff space at scale 100)."""
SCALE_PERCENT = 40

_NOTE_ID = re.compile(r'<g id="([^"]+)" class="note')


def render_svg_pages(musicxml: str, *, page_width: int = PAGE_WIDTH, scale: int = SCALE_PERCENT) -> list[str]:
    """Render every page of the score as an SVG string; the page height fits its content."""
    import verovio

    verovio.enableLog(False)
    # Verovio's package sets its font path only for toolkits made on the main thread; a toolkit made in a
    # worker thread (daphne, the inference pool) would look in the wheel's build directory and find no fonts.
    toolkit = verovio.toolkit(False)
    toolkit.setResourcePath(str(Path(verovio.__file__).parent / "data"))
    toolkit.setOptions(
        {
            "pageWidth": page_width,
            "scale": scale,
            "adjustPageHeight": True,
            "breaks": "auto",
            "footer": "none",
            "header": "auto",
            "svgViewBox": True,
            "svgRemoveXlink": True,
        }
    )
    if not toolkit.loadData(musicxml):
        raise ValueError("Verovio could not read the normalised MusicXML.")
    return [toolkit.renderToSVG(page) for page in range(1, toolkit.getPageCount() + 1)]


def note_ids_in_svg(pages: list[str]) -> set[str]:
    """Ids of every ``<g class="note">`` in the rendered pages."""
    return {match for page in pages for match in _NOTE_ID.findall(page)}
