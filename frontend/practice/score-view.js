/**
 * The score on the lesson page: Verovio SVG pages (server-rendered, each in a div.score-page) with an
 * overlay for the cursor and the note marks. Note ids in events equal the ids of the SVG's g.note elements.
 *
 * Overlay elements are positioned in the container's coordinates from the notes' client rectangles, so
 * they follow the SVG wherever CSS scales it; a resize recomputes them.
 */

export const RESULT_SYMBOLS = {
  correct: "✓",
  wrong_pitch: "✗",
  missed: "○",
  early: "«",
  late: "»",
  extra: "+",
};

const RESULT_NAMES = {
  correct: "Correct",
  wrong_pitch: "Wrong pitch",
  missed: "Missed",
  early: "Early",
  late: "Late",
  extra: "Extra note",
};

const LOW_CONFIDENCE = 0.5;
const SCROLL_EDGE_PX = 48;
const SCROLL_PAUSE_MS = 500;

/** "+23¢" / "−40¢" with a real minus sign. */
function signed(value, unit) {
  const rounded = Math.round(value);
  const sign = rounded > 0 ? "+" : rounded < 0 ? "−" : "±";
  return `${sign}${Math.abs(rounded)}${unit}`;
}

/** Short visible text and a full sentence for one verdict. */
export function describeVerdict(result, details = {}) {
  const symbol = RESULT_SYMBOLS[result] || "?";
  const name = RESULT_NAMES[result] || String(result).replace(/_/g, " ");
  const hasCents = typeof details.cents === "number" && Number.isFinite(details.cents);
  const hasMs = typeof details.ms === "number" && Number.isFinite(details.ms);
  let text = symbol;
  let sentence = name;
  if (result === "wrong_pitch" && hasCents) {
    text = `${symbol}${signed(details.cents, "¢")}`;
    const direction = details.cents >= 0 ? "sharp" : "flat";
    sentence = `${name}, ${Math.abs(Math.round(details.cents))} cents ${direction}`;
  } else if ((result === "early" || result === "late") && hasMs) {
    const ms = Math.abs(Math.round(details.ms));
    text = `${symbol}${ms}ms`;
    sentence = `${name} by ${ms} ms`;
  } else if (result === "correct" && hasCents && Math.abs(details.cents) >= 1) {
    sentence = `${name} (${signed(details.cents, " cents")})`;
  }
  if (details.label) sentence = `${details.label}: ${sentence}`;
  return { text, sentence };
}

export class ScoreView {
  /**
   * @param {HTMLElement} container element holding the div.score-page SVGs
   * @param {{notes?: Array, topInset?: () => number}} options score notes (for measures) and the height
   *   of anything fixed over the top of the viewport (a sticky toolbar), for scrolling decisions
   */
  constructor(container, { notes = [], topInset = () => 0 } = {}) {
    this.container = container;
    this.notes = notes;
    this.topInset = topInset;
    this.marks = new Map(); // note id → {element, result, details}
    this.cursorIds = [];
    this.cursorConfidence = 1;
    this.pendingFrame = 0;
    this.lastScrollAt = -Infinity;
    this.lastBandTop = null;

    if (getComputedStyle(container).position === "static") container.style.position = "relative";
    this.overlay = document.createElement("div");
    this.overlay.className = "score-overlay";
    this.cursor = document.createElement("div");
    this.cursor.className = "score-cursor";
    this.cursor.hidden = true;
    this.cursor.setAttribute("aria-hidden", "true");
    this.overlay.append(this.cursor);
    container.append(this.overlay);

    this.onResize = () => this.schedule();
    window.addEventListener("resize", this.onResize);
    if (typeof ResizeObserver !== "undefined") {
      this.resizeObserver = new ResizeObserver(this.onResize);
      this.resizeObserver.observe(container);
    }
  }

  /** The g.note element for an id, or null. Ids are looked up inside this score only. */
  noteElement(noteId) {
    if (!noteId) return null;
    return this.container.querySelector(`#${CSS.escape(String(noteId))}`);
  }

  /** Note ids that start measure `measure`'s notes, in score order (all of them, chords included). */
  noteIdsAtMeasure(measure) {
    const m = Number(measure);
    if (this.notes.length > 0) {
      return this.notes
        .filter((n) => n.measure === m)
        .sort((a, b) => a.onset_q - b.onset_q || (a.part || 0) - (b.part || 0))
        .map((n) => n.note_id);
    }
    const measures = this.container.querySelectorAll("g.measure");
    const group = measures[m - 1];
    return group ? Array.from(group.querySelectorAll("g.note"), (g) => g.id).filter(Boolean) : [];
  }

  /** Ids of the notes sounding first in a measure: where a take from that measure begins. */
  firstNoteIdsAtMeasure(measure) {
    const inMeasure = this.notes.filter((n) => n.measure === Number(measure));
    if (inMeasure.length === 0) return this.noteIdsAtMeasure(measure).slice(0, 1);
    const first = Math.min(...inMeasure.map((n) => n.onset_q));
    return inMeasure.filter((n) => n.onset_q === first).map((n) => n.note_id);
  }

  /** Move the cursor to the given notes; drawn on the next animation frame (events may come fast). */
  moveCursor(noteIds, confidence = 1, { isLost = false } = {}) {
    const ids = (Array.isArray(noteIds) ? noteIds : [noteIds]).filter(Boolean).map(String);
    if (ids.length === 0) return;
    this.cursorIds = ids;
    this.cursorConfidence = isLost ? 0 : Number(confidence);
    this.container.dataset.cursorNote = ids[0];
    this.schedule(true);
  }

  hideCursor() {
    this.cursorIds = [];
    this.cursor.hidden = true;
    this.setCursorNotes([]);
    delete this.container.dataset.cursorNote;
  }

  /** Mark a note with its verdict: a class on the note, a symbol beside it, and a text description. */
  markNote(noteId, result, details = {}) {
    const note = this.noteElement(noteId);
    if (!note) return false;
    for (const cls of Array.from(note.classList)) {
      if (cls.startsWith("mark-")) note.classList.remove(cls);
    }
    note.classList.add(`mark-${result}`);
    const { text, sentence } = describeVerdict(result, details);
    this.setNoteTitle(note, sentence);

    let mark = this.marks.get(noteId);
    if (!mark) {
      const element = document.createElement("span");
      element.setAttribute("role", "img");
      this.overlay.append(element);
      mark = { element };
      this.marks.set(noteId, mark);
    }
    Object.assign(mark, { result, details });
    mark.element.className = `note-mark mark-${result}`;
    mark.element.dataset.noteId = noteId;
    const [symbol, detail] = [text.slice(0, 1), text.slice(1)];
    mark.element.replaceChildren(symbol);
    if (detail) {
      const small = document.createElement("small");
      small.textContent = detail;
      mark.element.append(small);
    }
    mark.element.title = sentence;
    mark.element.setAttribute("aria-label", sentence);
    this.placeMark(note, mark.element, result);
    return true;
  }

  clearMarks() {
    for (const [noteId, mark] of this.marks) {
      mark.element.remove();
      const note = this.noteElement(noteId);
      if (!note) continue;
      for (const cls of Array.from(note.classList)) {
        if (cls.startsWith("mark-")) note.classList.remove(cls);
      }
      note.querySelector(":scope > title.etude-mark-title")?.remove();
    }
    this.marks.clear();
  }

  destroy() {
    window.removeEventListener("resize", this.onResize);
    this.resizeObserver?.disconnect();
    cancelAnimationFrame(this.pendingFrame);
    this.overlay.remove();
  }

  // ----- layout -----

  schedule(isCursorMove = false) {
    this.shouldScroll = this.shouldScroll || isCursorMove;
    if (this.pendingFrame) return;
    this.pendingFrame = requestAnimationFrame(() => {
      this.pendingFrame = 0;
      this.layout();
    });
  }

  layout() {
    const isCursorMove = this.shouldScroll;
    this.shouldScroll = false;
    this.drawCursor(isCursorMove);
    for (const [noteId, mark] of this.marks) {
      const note = this.noteElement(noteId);
      if (note) this.placeMark(note, mark.element, mark.result);
    }
  }

  /** A client rectangle converted to the container's (scrolling) coordinates. */
  toLocal(rect) {
    const box = this.container.getBoundingClientRect();
    const c = this.container;
    return {
      left: rect.left - box.left - c.clientLeft + c.scrollLeft,
      top: rect.top - box.top - c.clientTop + c.scrollTop,
      width: rect.width,
      height: rect.height,
    };
  }

  headRect(note) {
    const head = note.querySelector(".notehead") || note;
    return head.getBoundingClientRect();
  }

  drawCursor(isCursorMove) {
    const notes = this.cursorIds.map((id) => this.noteElement(id)).filter(Boolean);
    this.setCursorNotes(notes);
    if (notes.length === 0) {
      this.cursor.hidden = true;
      return;
    }
    const note = notes[0];
    const head = this.headRect(note);
    const span = (note.closest("g.system") || note.closest("g.staff") || note).getBoundingClientRect();
    const x = this.toLocal(head).left + head.width / 2;
    const band = this.toLocal(span);
    const pad = 6;
    // Glide along a system, but jump (no transition) to a new system or page.
    const isJump = this.cursor.hidden || this.lastBandTop === null || Math.abs(band.top - this.lastBandTop) > 1;
    this.lastBandTop = band.top;
    this.cursor.classList.toggle("is-jumping", isJump);
    this.cursor.hidden = false;
    this.cursor.style.transform = `translate(${x}px, ${band.top - pad}px)`;
    this.cursor.style.height = `${band.height + 2 * pad}px`;
    this.cursor.classList.toggle("is-uncertain", !(this.cursorConfidence >= LOW_CONFIDENCE));
    if (isCursorMove) {
      const centreX = head.left + head.width / 2;
      this.scrollToCursor({ left: centreX, right: centreX, top: span.top - pad, bottom: span.bottom + pad });
    }
  }

  setCursorNotes(notes) {
    for (const old of this.container.querySelectorAll("g.note.is-cursor")) {
      if (!notes.includes(old)) old.classList.remove("is-cursor");
    }
    for (const note of notes) note.classList.add("is-cursor");
  }

  /**
   * Scroll smoothly when the cursor's target (client coordinates; the element itself may still be mid-
   * transition) nears an edge of the visible area: the page vertically, the score box horizontally.
   */
  scrollToCursor(target) {
    const now = performance.now();
    if (now - this.lastScrollAt < SCROLL_PAUSE_MS) return;
    const behavior = window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
    const top = this.topInset() + SCROLL_EDGE_PX;
    const bottom = window.innerHeight - SCROLL_EDGE_PX;
    if (target.top < top || target.bottom > bottom) {
      this.lastScrollAt = now;
      const visibleMiddle = (this.topInset() + window.innerHeight) / 2;
      window.scrollBy({ top: (target.top + target.bottom) / 2 - visibleMiddle, behavior });
    }
    const box = this.container.getBoundingClientRect();
    const left = Math.max(box.left, 0) + SCROLL_EDGE_PX;
    const right = Math.min(box.right, window.innerWidth) - SCROLL_EDGE_PX;
    if (target.left < left || target.right > right) {
      this.lastScrollAt = now;
      this.container.scrollBy({ left: target.left - (box.left + box.right) / 2, behavior });
    }
  }

  placeMark(note, element, result) {
    const head = this.toLocal(this.headRect(note));
    const x = result === "extra" ? head.left + head.width + 2 : head.left + head.width / 2;
    element.style.left = `${x}px`;
    element.style.top = `${head.top}px`;
  }

  setNoteTitle(note, sentence) {
    let title = note.querySelector(":scope > title.etude-mark-title");
    if (!title) {
      title = document.createElementNS("http://www.w3.org/2000/svg", "title");
      title.setAttribute("class", "etude-mark-title");
      note.prepend(title);
    }
    title.textContent = sentence;
  }
}
