/**
 * The lesson page's "Next up" panel: asks the tutor for the next exercise, lets the learner choose something
 * else, and asks for a 1-5 rating after each take. It also applies ?tempo=<percent>&from=<bar> from the URL to
 * the lesson's controls, so following a recommendation lands with the right settings.
 */
const $ = (id) => document.getElementById(id);
const panel = $("tutor-next-up");

function csrfToken() {
  const cookie = document.cookie.split(";").map((c) => c.trim()).find((c) => c.startsWith("csrftoken="));
  if (cookie) return decodeURIComponent(cookie.slice("csrftoken=".length));
  return document.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
}

function setStatus(text, kind = "info") {
  const status = $("tutor-status");
  status.textContent = text;
  status.dataset.kind = kind;
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.message || `The tutor answered ${response.status}.`);
  return data;
}

/** Set a lesson control and tell lesson.js, which listens for input events. */
function setControl(id, value) {
  const input = $(id);
  if (!input || value === null || value === undefined) return;
  input.value = String(value);
  input.dispatchEvent(new Event("input", { bubbles: true }));
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

function applySettings(tempoPercent, fromMeasure) {
  setControl("tempo", tempoPercent);
  setControl("from-measure", fromMeasure);
}

function applyUrlSettings() {
  const params = new URLSearchParams(window.location.search);
  const tempo = Number(params.get("tempo"));
  const from = params.get("from");
  applySettings(tempo >= 25 && tempo <= 200 ? tempo : null, from && /^\d+$/.test(from) ? Number(from) : null);
}

function render(decision) {
  const percent = Math.round(decision.tempo_factor * 100);
  $("tutor-next-text").textContent = `${decision.title} at ${percent} % with ${decision.help_label}.`;
  const reason = $("tutor-next-reason");
  // The stored reason repeats the exercise for the logs ("<title> at <tempo> with <help>: <why>."); the line
  // above already says that, so show only the why.
  const cut = decision.reason.lastIndexOf(": ");
  const why = cut >= 0 ? decision.reason.slice(cut + 2) : "";
  reason.textContent = why ? `Why: ${why}` : decision.reason;
  reason.hidden = false;
  const link = $("tutor-next-link");
  link.href = decision.lesson_url;
  link.hidden = decision.is_current_lesson;
  const apply = $("tutor-next-apply");
  apply.hidden = !decision.is_current_lesson;
  apply.onclick = () => {
    applySettings(percent, decision.from_measure);
    setStatus("Tempo and start bar set from the recommendation.");
  };
  const select = $("tutor-override-exercise");
  select.replaceChildren(...decision.choices.map((c) => new Option(c.title, c.key)));
  $("tutor-override-help").replaceChildren(...decision.helps.map((h) => new Option(h.label, h.key)));
  $("tutor-override-form").dataset.url = decision.override_url;
  $("tutor-override").hidden = false;
  panel.dataset.decisionId = String(decision.decision_id);
}

async function loadNext() {
  try {
    const response = await fetch(panel.dataset.nextUrl, { credentials: "same-origin" });
    const data = await response.json();
    if (!response.ok) throw new Error(data.message || "The tutor has nothing to suggest yet.");
    render(data);
  } catch (error) {
    $("tutor-next-text").textContent = error.message;
  }
}

async function onOverride(event) {
  event.preventDefault();
  const form = event.currentTarget;
  try {
    const data = await postJson(form.dataset.url, {
      exercise: $("tutor-override-exercise").value,
      tempo_factor: Number($("tutor-override-tempo").value) / 100,
      help: $("tutor-override-help").value,
    });
    render(data);
    setStatus("Your choice is noted.", "success");
    if (!data.is_current_lesson) window.location.assign(data.lesson_url);
    else applySettings(Math.round(data.tempo_factor * 100), data.from_measure);
  } catch (error) {
    setStatus(error.message, "error");
  }
}

async function onRate(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const chosen = form.querySelector("input[name=rating]:checked");
  if (!chosen) return setStatus("Choose a rating from 1 to 5.", "error");
  const url = panel.dataset.ratingUrl.replace(/\/0\/rating\/$/, `/${form.dataset.takeId}/rating/`);
  try {
    await postJson(url, { rating: Number(chosen.value) });
    setStatus("Thanks: the tutor will take that into account.", "success");
    form.hidden = true;
  } catch (error) {
    setStatus(error.message, "error");
  }
}

/** When lesson.js shows the link to a newly saved take, offer to rate it and refresh the recommendation. */
function watchSavedTakes() {
  const link = document.getElementById("take-link");
  if (!link) return;
  new MutationObserver(() => {
    const match = /\/takes\/(\d+)\//.exec(link.getAttribute("href") || "");
    const form = $("tutor-rating-form");
    if (!match || link.hidden || form.dataset.takeId === match[1]) return;
    form.dataset.takeId = match[1];
    form.reset();
    form.hidden = false;
    loadNext();
  }).observe(link, { attributes: true, attributeFilter: ["href", "hidden"] });
}

if (panel) {
  window.addEventListener("load", applyUrlSettings); // after lesson.js has wired up its controls
  $("tutor-override-form").addEventListener("submit", onOverride);
  $("tutor-rating-form").addEventListener("submit", onRate);
  watchSavedTakes();
  loadNext();
}
