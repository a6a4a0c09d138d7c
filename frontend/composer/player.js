/**
 * Plays a composer track in the browser with WebAudio: the melody as a soft triangle-wave voice, the drums
 * (GM 35 bass drum, 38 snare) as a pitch-swept sine and a filtered noise burst on a sixteenth-note grid.
 */
const BASS_DRUM = 35;
const DRUM_STEP_BEATS = 0.25;

let context = null;

function audioContext() {
  if (!context) context = new AudioContext();
  if (context.state === "suspended") context.resume();
  return context;
}

function midiToHz(midi) {
  return 440 * 2 ** ((midi - 69) / 12);
}

function tone(ctx, out, midi, start, seconds) {
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.type = "triangle";
  osc.frequency.value = midiToHz(midi);
  const end = start + Math.max(0.05, seconds * 0.92);
  gain.gain.setValueAtTime(0, start);
  gain.gain.linearRampToValueAtTime(0.35, start + 0.015);
  gain.gain.exponentialRampToValueAtTime(0.12, end);
  gain.gain.linearRampToValueAtTime(0, end + 0.04);
  osc.connect(gain).connect(out);
  osc.start(start);
  osc.stop(end + 0.05);
}

function kick(ctx, out, start) {
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.frequency.setValueAtTime(140, start);
  osc.frequency.exponentialRampToValueAtTime(45, start + 0.12);
  gain.gain.setValueAtTime(0.5, start);
  gain.gain.exponentialRampToValueAtTime(0.001, start + 0.15);
  osc.connect(gain).connect(out);
  osc.start(start);
  osc.stop(start + 0.16);
}

function snare(ctx, out, start) {
  const length = Math.floor(ctx.sampleRate * 0.1);
  const buffer = ctx.createBuffer(1, length, ctx.sampleRate);
  const data = buffer.getChannelData(0);
  for (let i = 0; i < length; i += 1) data[i] = (Math.random() * 2 - 1) * (1 - i / length);
  const source = ctx.createBufferSource();
  const filter = ctx.createBiquadFilter();
  const gain = ctx.createGain();
  source.buffer = buffer;
  filter.type = "highpass";
  filter.frequency.value = 1500;
  gain.gain.value = 0.12;
  source.connect(filter).connect(gain).connect(out);
  source.start(start);
}

/** Play ``track`` ({pitches, beats, percussion}) at ``tempoBpm``; returns the length in seconds. */
export function playTrack(track, tempoBpm) {
  const ctx = audioContext();
  const out = ctx.createGain();
  out.gain.value = 0.8;
  out.connect(ctx.destination);
  const secondsPerBeat = 60 / tempoBpm;
  const begin = ctx.currentTime + 0.08;
  let at = begin;
  track.pitches.forEach((midi, i) => {
    const seconds = track.beats[i] * secondsPerBeat;
    tone(ctx, out, midi, at, seconds);
    at += seconds;
  });
  track.percussion.forEach((drum, i) => {
    const start = begin + i * DRUM_STEP_BEATS * secondsPerBeat;
    if (drum === BASS_DRUM) kick(ctx, out, start);
    else snare(ctx, out, start);
  });
  return at - begin;
}
