"""The agent's eye, image variant: the engraved score, as in the original game.

Verovio engraves the whole score as one long system (the note ids match ``ScoreNote.note_id``), cairosvg
rasterises it, and the image is scaled so that, on average, ``COLS_PER_SECOND`` columns pass per second of
music at the written tempo (the same speed units as the symbolic view; locally the engraving's spacing is
not proportional to time, which is what makes reading an image harder). The pixel ground truth of every
onset group is the x of its noteheads in the SVG; times come from the notes' onsets at the written tempo.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from inference.following.onsets import OnsetGroup, group_onsets
from inference.following.rl.score_roll import COLS_PER_SECOND, DOWNSAMPLE, VIEW_COLS, WINDOW_COLS
from inference.types import ScoreNote

IMAGE_ROWS = 64
"""Height of the staff image the agent sees (the engraved system is scaled to it)."""
_NOTEHEAD = re.compile(r'<g id="([^"]+)" class="note[^"]*">\s*<g class="notehead">\s*<use[^>]*translate\(([-\d.]+),')
_VIEWBOX = re.compile(r'viewBox="0 0 ([\d.]+) ([\d.]+)"')


def engrave_one_system(musicxml: str) -> str:
    """SVG of the whole score on one system (no line or page breaks)."""
    import verovio

    verovio.enableLog(False)
    toolkit = verovio.toolkit(False)
    toolkit.setResourcePath(str(Path(verovio.__file__).parent / "data"))
    toolkit.setOptions(
        {"breaks": "none", "scale": 40, "adjustPageHeight": True, "adjustPageWidth": True, "header": "none",
         "footer": "none", "svgViewBox": True, "svgRemoveXlink": True}
    )
    if not toolkit.loadData(musicxml):
        raise ValueError("Verovio could not read the MusicXML")
    return str(toolkit.renderToSVG(1))


def notehead_x(svg: str) -> dict[str, float]:
    """x of each note's notehead in the SVG's outer (pixel) units, by note id."""
    boxes = _VIEWBOX.findall(svg)
    if len(boxes) < 2:
        raise ValueError("unexpected Verovio SVG: no definition-scale viewBox")
    scale = float(boxes[0][0]) / float(boxes[1][0])
    return {note_id: float(x) * scale for note_id, x in _NOTEHEAD.findall(svg)}


def rasterise(svg: str, width: int, height: int) -> np.ndarray:
    """(height, width) float32 ink image in [0, 1] (1 = black), stretched to that size.

    cairosvg keeps the SVG's aspect ratio, so the system is drawn at its own proportions (twice the target
    height, for anti-aliasing) and then resampled to the requested shape.
    """
    import cairosvg
    from PIL import Image

    png = cairosvg.svg2png(bytestring=svg.encode(), output_height=2 * height, background_color="white")
    picture = Image.open(io.BytesIO(png)).convert("L").resize((width, height), Image.Resampling.BOX)
    return 1.0 - np.asarray(picture, dtype=np.float32) / 255.0


class ScoreImage:
    """Engraved score view with the ``ScoreRoll`` interface; positions are image columns."""

    def __init__(self, notes: Sequence[ScoreNote], musicxml: str) -> None:
        if not notes:
            raise ValueError("a score image needs at least one note")
        self.groups: list[OnsetGroup] = group_onsets(notes)
        svg = engrave_one_system(musicxml)
        width_px = float(_VIEWBOX.findall(svg)[0][0])
        xs = notehead_x(svg)
        group_x = []
        for group in self.groups:
            found = [xs[i] for i in group.note_ids if i in xs]
            if not found:
                raise ValueError(f"notes {group.note_ids} are not in the engraving")
            group_x.append(float(np.mean(found)))
        # Average columns per pixel from the notes' times, so ``notes`` may be the start of a longer score.
        span_s = self.groups[-1].onset_s - self.groups[0].onset_s
        span_px = group_x[-1] - group_x[0]
        stretch = span_s * COLS_PER_SECOND / span_px if span_px > 0 and span_s > 0 else 1.0
        self.n_cols = max(int(np.ceil(width_px * stretch)), WINDOW_COLS)
        self.onset_cols = np.maximum.accumulate(np.array(group_x) * stretch)
        self._pad = WINDOW_COLS
        self.image = np.zeros((IMAGE_ROWS, self.n_cols + 2 * self._pad), dtype=np.float32)
        self.image[:, self._pad : self._pad + self.n_cols] = rasterise(svg, self.n_cols, IMAGE_ROWS)

    def window(self, position: float) -> np.ndarray:
        """(IMAGE_ROWS, VIEW_COLS) excerpt centred on ``position``."""
        centre = int(round(float(np.clip(position, -self._pad / 2, self.n_cols + self._pad / 2)))) + self._pad
        excerpt = self.image[:, centre - WINDOW_COLS // 2 : centre + WINDOW_COLS // 2]
        return excerpt.reshape(IMAGE_ROWS, VIEW_COLS, DOWNSAMPLE).mean(axis=2)

    def group_at(self, position: float) -> int:
        return int(np.searchsorted(self.onset_cols, position + 1e-6, side="right")) - 1
