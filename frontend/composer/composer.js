/**
 * Composer page controller: start a session, show and play the melody awaiting a rating, send ratings
 * (buttons or the keys 1-9 and 0 for 10), redraw the progress plot, and point the export and practise
 * links at the current melody. All state lives on the server; this page only mirrors it.
 *
 * For tests: document.body.dataset.composer is idle | ready | sending | error; #progress-plot carries
 * data-count (ratings drawn); #melody-panel carries data-melody-id.
 */
import { describeProgress, drawProgress } from "./plot.js";
import { playTrack } from "./player.js";

const $ = (id) => document.getElementById(id);
const NOTE_NAMES = ["C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B"];

function csrfToken() {
  const cookie = document.cookie.split(";").map((c) => c.trim()).find((c) => c.startsWith("csrftoken="));
  if (cookie) return decodeURIComponent(cookie.slice("csrftoken=".length));
  return document.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
}

let state = JSON.parse($("composer-state").textContent);

function setStatus(text, kind = "info") {
  const status = $("composer-status");
  status.textContent = text;
  status.dataset.kind = kind;
}

function fillBaseNotes() {
  const select = $("base-note");
  const min = Number(select.dataset.min);
  const max = Number(select.dataset.max);
  for (let midi = min; midi <= max; midi += 1) {
    const option = new Option(`${NOTE_NAMES[midi % 12]}${Math.floor(midi / 12) - 1} (${midi})`, String(midi));
    select.append(option);
  }
  select.value = state.session ? String(state.session.params.base_note) : select.dataset.default;
}

function render() {
  const panel = $("melody-panel");
  const melody = state.melody;
  panel.hidden = !melody;
  drawProgress($("progress-plot"), state.history, state.episodes);
  $("progress-summary").textContent = describeProgress(state.history, state.episodes);
  if (!melody) return;
  const session = state.session;
  panel.dataset.melodyId = String(melody.id);
  $("session-title").textContent = `${session.title} · ${session.variant} agent`;
  $("melody-title").textContent =
    `Episode ${melody.episode + 1} · melody ${melody.step + 1} of ${session.ratings_per_episode}`;
  $("melody-edit").textContent = melody.edit.length
    ? `The agent changed: ${melody.edit.join(", ")}.`
    : "A fresh melody drawn from the scale.";
  $("score").innerHTML = melody.svg; // Verovio SVG rendered by our server from our own MusicXML
  $("export-midi").href = melody.midi_url;
  $("export-musicxml").href = melody.musicxml_url;
  $("practise-form").action = melody.practise_url;
  document.querySelectorAll("input[name=rating]").forEach((input) => { input.checked = false; });
  document.querySelectorAll(".extra-rating").forEach((select) => { select.value = ""; });
}

function play() {
  if (!state.melody) return;
  try {
    playTrack(state.melody.track, state.session.params.tempo_bpm);
  } catch (error) {
    setStatus(`This browser could not play audio (${error.message}). Download the MIDI file instead.`, "error");
  }
}

async function post(url, payload) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(payload),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({ message: `The server answered ${response.status}.` }));
  if (!response.ok) throw new Error(data.message || `The server answered ${response.status}.`);
  return data;
}

async function startSession(event) {
  event.preventDefault();
  const form = $("composer-params");
  const error = $("params-error");
  error.hidden = true;
  const payload = Object.fromEntries(new FormData(form).entries());
  delete payload.csrfmiddlewaretoken;
  document.body.dataset.composer = "sending";
  try {
    state = await post(form.dataset.url, payload);
    render();
    setStatus("New session: listen, then rate.");
    document.body.dataset.composer = "ready";
    if ($("autoplay").checked) play();
    $("play").focus();
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
    document.body.dataset.composer = "error";
  }
}

async function sendRating(value) {
  if (!state.melody || document.body.dataset.composer === "sending") return;
  const extras = {};
  document.querySelectorAll(".extra-rating").forEach((select) => {
    if (select.value) extras[select.name] = Number(select.value);
  });
  document.body.dataset.composer = "sending";
  setStatus(`Sending rating ${value}…`);
  try {
    state = await post(state.melody.rate_url, { rating: value, extras });
    render();
    const next = state.melody;
    setStatus(`Rated ${value}. ${next.step === 0 ? "A new episode starts with a fresh melody." : "Here is the next one."}`);
    document.body.dataset.composer = "ready";
    if ($("autoplay").checked) play();
  } catch (failure) {
    setStatus(failure.message, "error");
    document.body.dataset.composer = "error";
  }
}

function onRatingSubmit(event) {
  event.preventDefault();
  const chosen = document.querySelector("input[name=rating]:checked");
  if (!chosen) {
    setStatus("Choose a rating from 1 to 10 first.", "error");
    return;
  }
  sendRating(Number(chosen.value));
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || !state.melody) return;
  const target = event.target;
  if (target.closest && target.closest("#composer-params, select, textarea, input[type=number]")) return;
  if (/^[0-9]$/.test(event.key)) {
    event.preventDefault();
    sendRating(event.key === "0" ? 10 : Number(event.key));
  } else if (event.key === "p" || event.key === "P") {
    event.preventDefault();
    play();
  }
}

fillBaseNotes();
$("composer-params").addEventListener("submit", startSession);
$("rating-form").addEventListener("submit", onRatingSubmit);
$("play").addEventListener("click", play);
document.addEventListener("keydown", onKey);
render();
document.body.dataset.composer = state.melody ? "ready" : "idle";
if (state.melody) setStatus("Welcome back: this melody is waiting for your rating.");
