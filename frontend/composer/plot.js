/**
 * The progress plot: every rating as a dot (x = rating number, y = 1..10), each episode's mean as a line
 * across its ratings, and a faint boundary between episodes. Plain SVG, no library.
 */
const NS = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 220;
const PAD = { left: 34, right: 12, top: 12, bottom: 26 };

function el(name, attrs, text) {
  const node = document.createElementNS(NS, name);
  Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, String(v)));
  if (text !== undefined) node.textContent = text;
  return node;
}

export function drawProgress(svg, history, episodes) {
  svg.replaceChildren();
  const n = Math.max(history.length, 12);
  const x = (i) => PAD.left + ((WIDTH - PAD.left - PAD.right) * (i + 0.5)) / n;
  const y = (r) => HEIGHT - PAD.bottom - ((HEIGHT - PAD.top - PAD.bottom) * (r - 1)) / 9;
  [1, 4, 7, 10].forEach((r) => {
    svg.append(el("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(r), y2: y(r), class: "grid" }));
    svg.append(el("text", { x: PAD.left - 8, y: y(r) + 4, class: "axis", "text-anchor": "end" }, r));
  });
  svg.append(el("text", { x: WIDTH / 2, y: HEIGHT - 6, class: "axis", "text-anchor": "middle" }, "ratings, oldest first"));
  const means = new Map(episodes.map((e) => [e.episode, e.mean]));
  let start = 0;
  history.forEach((h, i) => {
    const last = i === history.length - 1 || history[i + 1].episode !== h.episode;
    if (!last) return;
    const mean = means.get(h.episode);
    if (mean !== undefined) {
      svg.append(el("line", { x1: x(start) - 4, x2: x(i) + 4, y1: y(mean), y2: y(mean), class: "episode-mean" }));
    }
    if (i < history.length - 1) {
      const bx = (x(i) + x(i + 1)) / 2;
      svg.append(el("line", { x1: bx, x2: bx, y1: PAD.top, y2: HEIGHT - PAD.bottom, class: "episode-boundary" }));
    }
    start = i + 1;
  });
  history.forEach((h, i) => {
    const dot = el("circle", { cx: x(i), cy: y(h.rating), r: 4, class: "point" });
    dot.append(el("title", {}, `Episode ${h.episode + 1}, melody ${h.step + 1}: ${h.rating}`));
    svg.append(dot);
  });
  svg.dataset.count = String(history.length);
}

export function describeProgress(history, episodes) {
  if (!history.length) return "No ratings yet.";
  const parts = episodes.map((e) => `episode ${e.episode + 1}: mean ${e.mean} over ${e.count}`);
  return `${history.length} ratings; ${parts.join("; ")}.`;
}
