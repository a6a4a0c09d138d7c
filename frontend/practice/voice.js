/**
 * Voice commands on the lesson page: carry out what the learner said, and show what was heard.
 *
 * During a take, commands arrive as `command` events on the practice socket (the server hears them in the
 * same microphone stream) and the talk key sends {"type":"push_to_talk","down":true|false} on that socket.
 * Between takes, holding the talk key (T, or the button) records a clip that is posted to the lesson's voice
 * URL; with "Listen for commands" on, the microphone stays open and each spoken phrase is posted hands-free.
 * lesson.js owns the take; it hands this module the few controls it needs (createVoice's `lesson` argument).
 */

import { startCapture } from "./audio-capture.js";

const TALK_KEY = "t";
const SPEECH_RMS = 0.012; // about −38 dBFS: louder than a quiet room, quieter than speech at arm's length
const SPEECH_START_FRAMES = 3; // 60 ms above the level opens a phrase
const SPEECH_END_FRAMES = 30; // 600 ms below it closes one
const PRE_ROLL_FRAMES = 15;
const MAX_CLIP_FRAMES = 50 * 8; // 8 s
const TEMPO_STEP = 10; // percent, for "slower" / "faster"
const BEATS_PER_BAR = 4;
const NOTE_HZ = { C: 261.63, D: 293.66, E: 329.63, F: 349.23, G: 392.0, A: 440.0, B: 493.88 };

const $ = (id) => document.getElementById(id);

export function createVoice(lesson) {
  const ui = { heard: $("voice-heard"), talk: $("voice-talk"), listen: $("voice-listen"),
    metronome: $("metronome"), loop: $("voice-loop") };
  const record = (window.etude.voice = { heard: [], metronome: false, loop: null, countIn: null });
  let audio = null; // AudioContext for clicks and reference pitches
  let metronomeTimer = 0;
  let mic = null; // between takes: {capture, frames, isTalking, phrase}

  // ----- what the page does for each intent -----

  const actions = {
    seek: (i) => restartFrom(i.measure),
    restart: () => restartFrom(lesson.firstMeasure()),
    repeat: () => restartFrom(lesson.fromMeasure() ?? lesson.firstMeasure()), // bar 0 (a pickup) is a bar
    resume: () => restartFrom(lesson.currentMeasure() ?? lesson.fromMeasure() ?? lesson.firstMeasure()),
    pause: () => lesson.isRunning() && lesson.stop(),
    stop: () => lesson.isRunning() && lesson.stop(),
    tempo: (i) => {
      const target = lesson.config.tempo_bpm || 100;
      const pct = i.bpm ? Math.round((100 * i.bpm) / target) : lesson.tempoPercent() + (i.change === "slower" ? -TEMPO_STEP : TEMPO_STEP);
      lesson.setTempoPercent(pct);
      if (metronomeTimer) startMetronome();
      const notes = [];
      if (lesson.tempoPercent() !== pct) notes.push(`${Math.round((target * lesson.tempoPercent()) / 100)} bpm is as far as this lesson goes`);
      if (lesson.isRunning()) notes.push("from the next take");
      return notes.join("; ");
    },
    loop: (i) => {
      record.loop = { start: i.start, end: i.end };
      if (ui.loop) ui.loop.textContent = `Loop: bars ${i.start}–${i.end}`;
      restartFrom(i.start);
    },
    loop_off: () => {
      record.loop = null;
      if (ui.loop) ui.loop.textContent = "";
    },
    metronome: (i) => (i.on ? startMetronome() : stopMetronome()),
    count_in: (i) => {
      record.countIn = i.on ? i.bars || 1 : null;
    },
    tune: (i) => tone(NOTE_HZ[i.note[0]] * (i.note[1] === "b" ? 2 ** (-1 / 12) : i.note[1] === "#" ? 2 ** (1 / 12) : 1), 2),
    next: () => go(lesson.config.next_lesson_url, "This is the last lesson of the course."),
    previous: () => go(lesson.config.previous_lesson_url, "This is the first lesson of the course."),
    summary: () => (lesson.showResults() ? "" : "No results yet: play a take first."),
  };

  function onCommand(message) {
    const intent = message.intent || { name: "unknown" };
    const entry = { text: message.text || "", intent, heard: message.heard || intent.name };
    record.heard.push(entry);
    const action = actions[intent.name];
    const note = action ? action(intent) : "";
    const said = entry.text ? `“${entry.text}”` : "(nothing)";
    const outcome = intent.name === "unknown" ? message.message || "Sorry, I didn't catch that." : entry.heard;
    show(`Heard ${said} → ${outcome}${typeof note === "string" && note ? ` (${note})` : ""}`, intent.name === "unknown" ? "warning" : "info");
  }

  function show(text, kind = "info") {
    if (!ui.heard) return;
    ui.heard.textContent = text;
    ui.heard.dataset.kind = kind;
  }

  function go(url, otherwise) {
    if (!url) return otherwise;
    if (lesson.isRunning()) lesson.stop();
    window.setTimeout(() => window.location.assign(url), lesson.isRunning() ? 1500 : 0);
    return "";
  }

  /** Start a take from `measure`, ending the running one first (it is saved), with the count-in if set. */
  function restartFrom(measure) {
    lesson.setFromMeasure(measure);
    const begin = () => (record.countIn ? countIn(record.countIn).then(lesson.start) : lesson.start());
    if (!lesson.isRunning()) return begin();
    lesson.stop();
    const waitUntil = performance.now() + 15000;
    const poll = window.setInterval(() => {
      if (!lesson.isRunning() && !lesson.isStopping()) {
        window.clearInterval(poll);
        begin();
      } else if (performance.now() > waitUntil) window.clearInterval(poll);
    }, 100);
  }

  // ----- sound: metronome, count-in, reference pitch (WebAudio) -----

  function context() {
    audio = audio || new AudioContext();
    audio.resume().catch(() => {});
    return audio;
  }

  function click(at, isAccent = false) {
    const ctx = context();
    const osc = new OscillatorNode(ctx, { frequency: isAccent ? 1600 : 1100 });
    const gain = new GainNode(ctx, { gain: 0 });
    gain.gain.setValueAtTime(0.3, at);
    gain.gain.exponentialRampToValueAtTime(0.001, at + 0.05);
    osc.connect(gain).connect(ctx.destination);
    osc.start(at);
    osc.stop(at + 0.06);
  }

  function beatSeconds() {
    return 60 / (((lesson.config.tempo_bpm || 100) * lesson.tempoPercent()) / 100);
  }

  function startMetronome() {
    stopMetronome();
    let beat = 0;
    const tick = () => click(context().currentTime + 0.01, beat++ % BEATS_PER_BAR === 0);
    tick();
    metronomeTimer = window.setInterval(tick, beatSeconds() * 1000);
    record.metronome = true;
    if (ui.metronome) ui.metronome.checked = true;
  }

  function stopMetronome() {
    window.clearInterval(metronomeTimer);
    metronomeTimer = 0;
    record.metronome = false;
    if (ui.metronome) ui.metronome.checked = false;
  }

  function countIn(bars) {
    const ctx = context();
    const beats = bars * BEATS_PER_BAR;
    for (let b = 0; b < beats; b++) click(ctx.currentTime + 0.05 + b * beatSeconds(), b % BEATS_PER_BAR === 0);
    return new Promise((resolve) => window.setTimeout(resolve, (beats * beatSeconds() + 0.05) * 1000));
  }

  function tone(hz, seconds) {
    const ctx = context();
    const osc = new OscillatorNode(ctx, { frequency: hz });
    const gain = new GainNode(ctx, { gain: 0 });
    gain.gain.linearRampToValueAtTime(0.2, ctx.currentTime + 0.05);
    gain.gain.linearRampToValueAtTime(0, ctx.currentTime + seconds);
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + seconds);
  }

  // ----- talking between takes: a clip posted to the server -----

  async function openMic() {
    if (mic) return mic;
    mic = { capture: null, frames: [], history: [], isTalking: false, loud: 0, quiet: 0, phrase: false };
    try {
      mic.capture = await startCapture(onMicFrame, () => {}, { onEnded: closeMic });
    } catch (error) {
      mic = null;
      show(`The microphone could not be opened for commands (${error.name || error}).`, "error");
    }
    return mic;
  }

  function closeMic() {
    mic?.capture?.stop();
    mic = null;
  }

  function onMicFrame(buffer) {
    if (!mic) return;
    const samples = new Int16Array(buffer);
    let sum = 0;
    for (const s of samples) sum += (s / 32768) ** 2;
    const isLoud = Math.sqrt(sum / samples.length) > SPEECH_RMS;
    if (mic.isTalking || mic.phrase) {
      mic.frames.push(buffer);
      mic.quiet = isLoud ? 0 : mic.quiet + 1;
      const isOver = mic.frames.length >= MAX_CLIP_FRAMES || (!mic.isTalking && mic.quiet >= SPEECH_END_FRAMES);
      if (isOver) sendClip(!mic.isTalking);
      return;
    }
    mic.history.push(buffer);
    if (mic.history.length > PRE_ROLL_FRAMES) mic.history.shift();
    mic.loud = isLoud ? mic.loud + 1 : 0;
    if (ui.listen?.checked && mic.loud >= SPEECH_START_FRAMES) {
      mic.phrase = true;
      mic.frames = [...mic.history];
    }
  }

  async function sendClip(isHandsFree) {
    const frames = mic.frames;
    Object.assign(mic, { frames: [], history: [], phrase: false, loud: 0, quiet: 0 });
    if (!ui.listen?.checked && !mic.isTalking) closeMic();
    if (!frames.length || !lesson.config.voice_url) return;
    const body = new Uint8Array(frames.reduce((n, f) => n + f.byteLength, 0));
    frames.reduce((at, f) => (body.set(new Uint8Array(f), at), at + f.byteLength), 0);
    show("Listening…");
    try {
      const response = await fetch(lesson.config.voice_url, {
        method: "POST", credentials: "same-origin", body,
        headers: { "Content-Type": "application/octet-stream", "X-CSRFToken": lesson.csrfToken() },
      });
      const result = await response.json();
      if (!response.ok) return show(result.message || "The command could not be heard.", "error");
      if (isHandsFree && !result.text) return show(""); // a noise, not speech: nothing to say
      onCommand(result);
    } catch {
      show("The command could not reach the tutor.", "error");
    }
  }

  // ----- the talk key and the controls -----

  async function talk(isDown) {
    if (lesson.isRunning()) {
      lesson.sendToTake({ type: "push_to_talk", down: isDown });
      show(isDown ? "Talk now — release to send." : "Listening…");
      return;
    }
    if (isDown) {
      const opened = await openMic();
      if (!opened) return;
      Object.assign(mic, { isTalking: true, phrase: false, frames: [...mic.history] });
      show("Talk now — release to send.");
    } else if (mic?.isTalking) {
      mic.isTalking = false;
      sendClip(false);
    }
  }

  const isTyping = (event) => event.target instanceof Element && event.target.closest("input:not([type=checkbox]), textarea, select");
  document.addEventListener("keydown", (event) => {
    if (event.key.toLowerCase() !== TALK_KEY || event.repeat || event.ctrlKey || event.metaKey || isTyping(event)) return;
    event.preventDefault();
    talk(true);
  });
  document.addEventListener("keyup", (event) => event.key.toLowerCase() === TALK_KEY && !isTyping(event) && talk(false));
  ui.talk?.addEventListener("pointerdown", () => talk(true));
  ui.talk?.addEventListener("pointerup", () => talk(false));
  ui.talk?.addEventListener("pointerleave", () => mic?.isTalking && talk(false));
  ui.metronome?.addEventListener("change", () => (ui.metronome.checked ? startMetronome() : stopMetronome()));
  ui.listen?.addEventListener("change", () => (ui.listen.checked && !lesson.isRunning() ? openMic() : closeMic()));

  // The take has the microphone while it runs; hands-free listening resumes when it ends. A loop is kept by
  // restarting its first bar once the cursor passes its last.
  window.setInterval(() => {
    if (lesson.isRunning() && mic && !mic.isTalking) closeMic();
    else if (!lesson.isRunning() && !lesson.isStopping() && ui.listen?.checked && !mic) openMic();
    const measure = lesson.currentMeasure();
    if (record.loop && lesson.isRunning() && measure > record.loop.end) restartFrom(record.loop.start);
  }, 250);

  return { onCommand, show };
}
