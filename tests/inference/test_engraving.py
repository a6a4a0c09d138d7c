"""Engraving works wherever it is called from: the web process renders scores in worker threads."""

from __future__ import annotations

import threading

from inference.engraving import note_ids_in_svg, render_svg_pages


def test_a_score_engraved_in_a_worker_thread_keeps_every_note_id(lullaby) -> None:  # type: ignore[no-untyped-def]
    import verovio  # imported on the main thread first, as in a long-running web process

    assert verovio.toolkit is not None
    parsed = lullaby
    pages: list[str] = []
    worker = threading.Thread(target=lambda: pages.extend(render_svg_pages(parsed.musicxml)))
    worker.start()
    worker.join()
    assert pages and "<path" in pages[0]
    assert {n.note_id for n in parsed.notes} <= note_ids_in_svg(pages)
