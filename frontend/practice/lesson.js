/**
 * Lesson page controller: Start/Stop, tempo and start-measure controls, microphone capture, the practice
 * socket, the score cursor and marks, and the live announcements (the results panel is results.js).
 *
 * For tests: document.body.dataset.state is idle | starting | listening | stopping | done | error;
 * window.etude counts what happened in the current take; #score carries data-cursor-note.
 */
import { describeCaptureError, startCapture } from "./audio-capture.js";
import { openPracticeSocket } from "./socket.js";
import { RESULT_WORDS, renderResults } from "./results.js";
import { ScoreView } from "./score-view.js";
import { createVoice } from "./voice.js";

const STARTED_FALLBACK_MS = 3000; // servers that never send "started" still get a take
const FINISH_TIMEOUT_MS = 10000; // after stop, wait this long for summary and saved
const SAVED_GRACE_MS = 3000; // after summary, wait this long for saved
const ANNOUNCE_INTERVAL_MS = 4000;
const SILENCE_PEAK = 0.001; // −60 dBFS
const SILENCE_WARNING_MS = 4000;
const TEMPO_KEY_STEP = 5;
const PREROLL_FRAMES = 75; // the last 1.5 s heard while the take starts is sent first (under the 2 s burst limit)

const $ = (id) => document.getElementById(id);

function readJson(id, fallback) {
  const node = $(id);
  if (!node) return fallback;
  try {
    return JSON.parse(node.textContent) ?? fallback;
  } catch {
    return fallback;
  }
}

function csrfToken() {
  const cookie = document.cookie.split(";").map((c) => c.trim()).find((c) => c.startsWith("csrftoken="));
  if (cookie) return decodeURIComponent(cookie.slice("csrftoken=".length));
  return document.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
}

const config = readJson("lesson-config", {});
const assignment = config.assignment || null; // {id, from_measure, to_measure, tempo_bpm}: set up and stop takes
const notes = readJson("score-notes", []);
const notesById = new Map(notes.map((n) => [n.note_id, n]));
const ui = {
  button: $("start-stop"),
  tempo: $("tempo"),
  tempoValue: $("tempo-value"),
  fromMeasure: $("from-measure"),
  status: $("status"),
  announcer: $("verdict-announcer"),
  level: $("mic-level"),
  results: $("results"),
  score: $("score"),
  toolbar: $("practice-controls"),
};
const scoreView = new ScoreView(ui.score, {
  notes,
  topInset: () => (ui.toolbar ? Math.max(0, ui.toolbar.getBoundingClientRect().bottom) : 0),
});
const etude = (window.etude = {});
let take = null; // the take in progress: {attempt, capture, socket, timers, ...}
let attempts = 0;

function resetCounters() {
  Object.assign(etude, { positions: 0, lastPosition: null, verdicts: [], framesSent: 0, framesDropped: 0,
    commands: [], errors: [], summary: null, takeId: null, takeUrl: null });
}

function setStatus(text, kind = "info") {
  ui.status.textContent = text;
  ui.status.dataset.kind = kind;
}

function setState(state) {
  document.body.dataset.state = state;
  const isBusy = state === "starting" || state === "listening" || state === "stopping";
  ui.button.textContent = state === "stopping" ? "Finishing…" : isBusy ? "Stop" : "Start";
  ui.button.disabled = state === "stopping";
  ui.button.classList.toggle("is-running", isBusy);
  ui.tempo.disabled = isBusy;
  ui.fromMeasure.disabled = isBusy;
}

const state = () => document.body.dataset.state;

// ----- controls -----

function tempoPercent() {
  return Number(ui.tempo.value) || 100;
}

function showTempo() {
  const pct = tempoPercent();
  const bpm = Math.round(((config.tempo_bpm || 100) * pct) / 100);
  ui.tempoValue.textContent = `${pct} % · ${bpm} bpm`;
  ui.tempo.setAttribute("aria-valuetext", `${pct} percent, ${bpm} beats per minute`);
}

/** The take's tempo factor: relative to the written tempo, as the follower reads the score. */
function tempoFactor() {
  const bpm = ((config.tempo_bpm || 100) * tempoPercent()) / 100;
  return config.written_bpm ? bpm / config.written_bpm : tempoPercent() / 100;
}

function nudgeTempo(delta) {
  ui.tempo.value = String(Math.min(Number(ui.tempo.max), Math.max(Number(ui.tempo.min), tempoPercent() + delta)));
  showTempo();
}

function fromMeasure() {
  const last = Number(config.measures) || Number(ui.fromMeasure.max) || 1;
  const first = Number(config.first_measure ?? 1);
  const m = Math.round(Number(ui.fromMeasure.value));
  return Number.isFinite(m) && m >= first && m <= last ? m : null;
}

function showStartMeasure() {
  const m = fromMeasure();
  if (m !== null) scoreView.moveCursor(scoreView.firstNoteIdsAtMeasure(m), 1); // a pickup is bar 0
}

// ----- the take -----

async function start() {
  const measure = fromMeasure();
  if (measure === null) {
    setStatus(`Choose a bar between ${config.first_measure ?? 1} and ${config.measures || ui.fromMeasure.max}.`, "error");
    ui.fromMeasure.focus();
    return;
  }
  const attempt = ++attempts;
  take = { attempt, measure, timers: [], hasSummary: false, hasSaved: false, isStarted: false, preroll: [] };
  resetCounters();
  scoreView.clearMarks();
  ui.results.hidden = true;
  setState("starting");
  setStatus("Starting the microphone…");
  ui.announcer.textContent = "";
  let capture;
  try {
    // Called before any await so the AudioContext is resumed inside the click or key press.
    capture = await startCapture(onFrame, onLevel, { onEnded: () => fail("The microphone stopped.") });
  } catch (error) {
    if (take?.attempt === attempt) fail(describeCaptureError(error));
    return;
  }
  if (take?.attempt !== attempt) return capture.stop();
  take.capture = capture;
  try {
    setStatus("Creating the take…");
    const response = await fetch(config.take_create_url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ tempo_factor: tempoFactor(), from_measure: measure, assignment_id: assignment?.id }),
    });
    const body = await response.json().catch(() => ({}));
    if (take?.attempt !== attempt) return;
    if (!response.ok || !body.ws_url) {
      throw new Error(body.message || body.error || body.detail || `The take could not be created (${response.status}).`);
    }
    etude.takeId = body.take_id;
    setStatus("Connecting…");
    take.socket = openPracticeSocket(body.ws_url, socketHandlers(attempt));
    take.socket.start({ fromMeasure: measure, tempoFactor: tempoFactor() });
  } catch (error) {
    if (take?.attempt === attempt) fail(error.message || "The take could not be started.");
  }
}

function socketHandlers(attempt) {
  const mine = (handler) => (message) => take?.attempt === attempt && handler(message);
  return {
    open: mine(() => later(STARTED_FALLBACK_MS, () => !take.isStarted && onStarted())),
    started: mine(onStarted),
    position: mine(onPosition),
    verdict: mine(onVerdict),
    command: mine(onCommand),
    summary: mine(onSummary),
    saved: mine(onSaved),
    error: mine((m) => {
      etude.errors.push(m);
      setStatus(m.message || `Error: ${m.code || "unknown"}`, "error");
    }),
    dropped: mine((n) => {
      etude.framesDropped = n;
      setStatus("The connection is slow: some audio did not reach the tutor.", "warning");
    }),
    close: mine(onClose),
  };
}

function later(ms, fn) {
  take.timers.push(setTimeout(fn, ms));
}

function onStarted() {
  if (state() !== "starting") return;
  take.isStarted = true;
  take.lastSoundAt = performance.now();
  setState("listening");
  // A learner who starts playing before "Listening" shows loses nothing of the last 1.5 s.
  take.preroll.splice(0).forEach((buffer) => take.socket?.sendFrame(buffer));
  setStatus(`Listening — play from bar ${take.measure}.`);
  showStartMeasure();
}

function onFrame(buffer) {
  if (state() === "starting" && take) {
    take.preroll.push(buffer);
    if (take.preroll.length > PREROLL_FRAMES) take.preroll.shift();
    return;
  }
  if (state() !== "listening" || !take?.socket) return;
  take.socket.sendFrame(buffer);
  etude.framesSent = take.socket.framesSent;
  etude.framesDropped = take.socket.framesDropped;
}

function onLevel({ rms, peak }) {
  const db = 20 * Math.log10(Math.max(rms, 1e-6));
  const share = Math.min(1, Math.max(0, (db + 60) / 60));
  ui.level.style.setProperty("--level", share.toFixed(3));
  ui.level.setAttribute("aria-valuenow", String(Math.round(share * 100)));
  ui.level.setAttribute("aria-valuetext", rms > 0 ? `${Math.round(db)} dB` : "silent");
  ui.level.classList.toggle("is-clipping", peak >= 0.99);
  if (state() !== "listening") return;
  const now = performance.now();
  if (peak > SILENCE_PEAK) take.lastSoundAt = now;
  else if (now - take.lastSoundAt > SILENCE_WARNING_MS && !take.hasWarnedSilence) {
    take.hasWarnedSilence = true;
    setStatus("No sound is reaching the microphone. Check that it is connected and not muted.", "warning");
  }
}

function onPosition(message) {
  etude.positions += 1;
  etude.lastPosition = message;
  scoreView.moveCursor(message.note_ids || [], message.confidence ?? 1, { isLost: Boolean(message.is_lost) });
  if (assignment && state() === "listening" && !message.is_lost && message.measure > assignment.to_measure) {
    etude.stoppedAfterExcerptAt = message.measure;
    setStatus(`That was the last bar of the assignment (bar ${assignment.to_measure}).`);
    endStreaming();
  }
}

function onVerdict(message) {
  etude.verdicts.push(message);
  const note = notesById.get(message.note_id);
  const label = note ? `Bar ${note.measure}, beat ${note.beat}` : "";
  scoreView.markNote(message.note_id, message.result, { cents: message.cents, ms: message.ms, label });
  take.pending = take.pending || {};
  take.pending[message.result] = (take.pending[message.result] || 0) + 1;
  if (!take.announceTimer) take.announceTimer = setTimeout(announceVerdicts, ANNOUNCE_INTERVAL_MS);
}

function announceVerdicts() {
  if (!take) return;
  const parts = Object.entries(take.pending || {}).map(([r, n]) => `${n} ${RESULT_WORDS[r] || r}`);
  take.pending = {};
  take.announceTimer = 0;
  if (parts.length) ui.announcer.textContent = parts.join(", ");
}

function onCommand(message) {
  etude.commands.push(message);
  voice.onCommand(message); // voice.js carries out every intent and shows what was heard
}

function onSummary(message) {
  etude.summary = message;
  take.hasSummary = true;
  renderResults(message, etude.verdicts, ui.results);
  if (state() === "listening" || state() === "starting") endStreaming();
  if (take.hasSaved) finish();
  else later(SAVED_GRACE_MS, finish);
}

function onSaved(message) {
  take.hasSaved = true;
  etude.takeUrl = message.take_url || null;
  const link = $("take-link");
  if (link && message.take_url) {
    link.href = message.take_url;
    link.hidden = false;
  }
  if (take.hasSummary) finish();
}

function onClose(event) {
  if (state() === "stopping" || take.hasSummary) return finish();
  const last = etude.errors[etude.errors.length - 1];
  const closed = `The connection to the tutor closed (code ${event.code}); your take so far is kept.`;
  fail(last?.message ? `${last.message} ${closed}` : closed);
}

/** Stop sending audio and ask the server for the summary. */
function endStreaming() {
  setState("stopping");
  take.capture?.stop();
  take.socket?.stop();
  setStatus("Finishing — waiting for your results…");
  later(FINISH_TIMEOUT_MS, finish);
}

function stop() {
  if (!take) return;
  if (state() === "listening" || (state() === "starting" && take.socket)) endStreaming();
  else if (state() === "starting") {
    cleanUp();
    setState("idle");
    setStatus("Cancelled.");
  }
}

function finish() {
  if (!take || state() === "done") return;
  announceVerdicts();
  const hasSummary = take.hasSummary;
  cleanUp();
  setState("done");
  if (hasSummary) {
    setStatus("Done. Your results are below.", "success");
    ui.results.focus({ preventScroll: false });
  } else setStatus("The take ended, but no results came back from the tutor.", "warning");
}

function fail(message) {
  cleanUp();
  setState("error");
  setStatus(message, "error");
}

function cleanUp() {
  if (!take) return;
  take.timers.forEach(clearTimeout);
  clearTimeout(take.announceTimer);
  take.capture?.stop();
  take.socket?.close();
  take = null;
}

function toggle() {
  const s = state();
  if (s === "starting" || s === "listening") stop();
  else if (s !== "stopping") start();
}

// ----- wiring -----

ui.button.addEventListener("click", toggle);
ui.tempo.addEventListener("input", showTempo);
ui.fromMeasure.addEventListener("change", showStartMeasure);
ui.toolbar?.addEventListener("submit", (event) => event.preventDefault());
document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "Escape") {
    if (take) stop();
    return;
  }
  const target = event.target instanceof Element ? event.target : null;
  const isRange = target?.matches("input[type=range]");
  if (target?.closest("input, textarea, select, [contenteditable]:not([contenteditable=false])") && !isRange) return;
  if (event.key === " " && !isRange) {
    if (target?.closest("button, a, summary, [role=button]")) return; // the browser activates it
    event.preventDefault();
    toggle();
  } else if ((event.key === "-" || event.key === "+" || event.key === "=") && !ui.tempo.disabled) {
    event.preventDefault();
    nudgeTempo(event.key === "-" ? -TEMPO_KEY_STEP : TEMPO_KEY_STEP);
  }
});
window.addEventListener("pagehide", () => take && cleanUp());
const voice = createVoice({
  config, csrfToken, tempoPercent, fromMeasure, start, stop,
  firstMeasure: () => Number(config.first_measure ?? 1),
  currentMeasure: () => (take ? etude.lastPosition?.measure ?? null : null),
  isRunning: () => ["starting", "listening"].includes(state()),
  isStopping: () => state() === "stopping",
  setTempoPercent: (pct) => nudgeTempo(pct - tempoPercent()),
  setFromMeasure: (m) => { ui.fromMeasure.value = String(m); showStartMeasure(); },
  showResults: () => Boolean(etude.summary) && (ui.results.hidden = false, ui.results.focus(), true),
  sendToTake: (message) => take?.socket?.send(message),
});

/** An assignment's take starts at its first bar, at its tempo (rounded up to the slider's step). */
function applyAssignment() {
  if (!assignment) return;
  ui.fromMeasure.value = String(assignment.from_measure);
  const step = Number(ui.tempo.step) || 5;
  const pct = Math.ceil((100 * assignment.tempo_bpm) / (config.tempo_bpm || assignment.tempo_bpm) / step - 1e-9) * step;
  ui.tempo.value = String(pct);
  showStartMeasure();
}

resetCounters();
applyAssignment();
showTempo();
setState("idle");
