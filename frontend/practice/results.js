/**
 * The results panel of a finished take: counts per result (symbol and word, not colour alone), accuracy,
 * the tutor's message and a link to the next exercise.
 */
import { RESULT_SYMBOLS } from "./score-view.js";

export const RESULT_WORDS = { correct: "correct", wrong_pitch: "wrong pitch", missed: "missed", early: "early",
  late: "late", extra: "extra" };

/** Fill the results panel: counts per result (symbol and word, not colour alone) and accuracy. */
export function renderResults(summary, verdicts, panel) {
  let counts = summary.counts;
  if (!counts || typeof counts !== "object") {
    counts = {};
    for (const v of verdicts) counts[v.result] = (counts[v.result] || 0) + 1;
  }
  const judged = Object.entries(counts).reduce((sum, [r, n]) => sum + (r === "extra" ? 0 : Number(n) || 0), 0);
  let accuracy = typeof summary.accuracy === "number" ? summary.accuracy : null;
  if (accuracy !== null && accuracy <= 1) accuracy *= 100;
  if (accuracy === null && judged > 0) accuracy = (100 * (Number(counts.correct) || 0)) / judged;
  document.getElementById("results-accuracy").textContent =
    accuracy === null ? "No notes were judged in this take." : `Accuracy: ${Math.round(accuracy)} % of ${judged} notes`;
  const rows = Object.keys({ ...RESULT_WORDS, ...counts }).map((result) => {
    const row = document.createElement("tr");
    row.className = `result-row mark-${result}`;
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = `${RESULT_SYMBOLS[result] || "•"} ${RESULT_WORDS[result] || result}`;
    const count = document.createElement("td");
    count.textContent = String(counts[result] || 0);
    count.dataset.result = result;
    row.append(name, count);
    return row;
  });
  document.getElementById("results-table").tBodies[0].replaceChildren(...rows);
  const note = document.getElementById("results-message");
  const next = summary.next || summary.next_exercise;
  note.replaceChildren(summary.message || "");
  if (next && next.url) {
    const link = Object.assign(document.createElement("a"), { href: next.url, textContent: `Next: ${next.title || "exercise"}` });
    note.append(summary.message ? " " : "", link);
  }
  note.hidden = !note.textContent;
  panel.hidden = false;
}
