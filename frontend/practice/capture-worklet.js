/**
 * AudioWorkletProcessor "etude-capture": microphone audio at the context's rate in, 16 kHz little-endian
 * Int16 mono frames of 20 ms out (posted to the main thread as transferred ArrayBuffers).
 *
 * The context runs at whatever rate the device has (44100 Hz on the headless fake mic, often 48000 Hz
 * elsewhere), so the ratio is fractional. Each output sample is a windowed-sinc interpolation of the input
 * at a fractional position (Smith's bandlimited interpolation): the kernel low-passes below the output
 * Nyquist and interpolates in one step. The kernel is tabulated finely and read with linear interpolation
 * between table points. Input history and the fractional read position persist across render quanta, so
 * block boundaries leave no seams.
 *
 * Messages to the main thread: {type: "frame", buffer} and {type: "level", rms, peak} (about 10 per second).
 * Messages from the main thread: {type: "stop"} ends processing.
 */

const OUTPUT_RATE_HZ = 16000;
const FRAME_SAMPLES = 320; // 20 ms at 16 kHz
const FRAMES_PER_LEVEL = 5; // a level report every 100 ms
const CUTOFF_FRACTION = 0.92; // pass band edge as a share of the output Nyquist (7.36 kHz)
const ZERO_CROSSINGS = 16; // kernel half-width in lobes of the low-pass sinc
const TABLE_STEPS_PER_SAMPLE = 512; // kernel resolution between input samples
const KAISER_BETA = 8.6; // about 80 dB stop-band attenuation

/** Zeroth-order modified Bessel function of the first kind, by its power series. */
function besselI0(x) {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

/**
 * Tabulate one side of the kernel h(u) = 2·fc·sinc(2·fc·u)·kaiser(u / halfWidth), u in input samples,
 * fc in cycles per input sample. Gain is chosen so a constant input comes out unchanged.
 */
function buildKernel(cutoff, halfWidth) {
  const size = Math.ceil(halfWidth * TABLE_STEPS_PER_SAMPLE) + 2;
  const table = new Float32Array(size);
  const norm = besselI0(KAISER_BETA);
  for (let i = 0; i < size; i++) {
    const u = i / TABLE_STEPS_PER_SAMPLE;
    if (u >= halfWidth) break;
    const x = 2 * cutoff * u;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const r = u / halfWidth;
    const window = besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / norm;
    table[i] = 2 * cutoff * sinc * window;
  }
  return table;
}

class EtudeCaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = (options && options.processorOptions) || {};
    // `sampleRate` is the AudioWorkletGlobalScope's rate; processorOptions may state it explicitly.
    const inputRate = opts.sampleRate || sampleRate;
    this.step = inputRate / OUTPUT_RATE_HZ; // input samples per output sample
    const cutoff = 0.5 * Math.min(1, OUTPUT_RATE_HZ / inputRate) * CUTOFF_FRACTION;
    this.halfWidth = Math.ceil(ZERO_CROSSINGS / (2 * cutoff));
    this.kernel = buildKernel(cutoff, this.halfWidth);

    // Pending input; `readPos` is where the next output sample sits, in samples from buf[0].
    // Starting with halfWidth zeros of history means the first output needs no look-behind guard.
    this.buf = new Float32Array(2 * this.halfWidth + 4096);
    this.bufLen = this.halfWidth;
    this.readPos = this.halfWidth;

    this.frame = new ArrayBuffer(FRAME_SAMPLES * 2);
    this.frameView = new DataView(this.frame);
    this.frameFill = 0;
    this.sumSquares = 0;
    this.peak = 0;
    this.levelSamples = 0;
    this.framesSinceLevel = 0;
    this.isStopped = false;

    this.port.onmessage = (event) => {
      if (event.data && event.data.type === "stop") this.isStopped = true;
    };
  }

  process(inputs) {
    if (this.isStopped) return false;
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true; // source not connected (yet)
    this.append(channels);
    this.resample();
    return true;
  }

  /** Mix the render quantum down to mono and add it to the pending input. */
  append(channels) {
    const n = channels[0].length;
    if (this.bufLen + n > this.buf.length) {
      const bigger = new Float32Array((this.bufLen + n) * 2);
      bigger.set(this.buf.subarray(0, this.bufLen));
      this.buf = bigger;
    }
    const out = this.buf;
    const base = this.bufLen;
    if (channels.length === 1) {
      out.set(channels[0], base);
    } else {
      const scale = 1 / channels.length;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let c = 0; c < channels.length; c++) s += channels[c][i];
        out[base + i] = s * scale;
      }
    }
    this.bufLen += n;
  }

  /** Produce every output sample whose kernel support lies inside the pending input. */
  resample() {
    const buf = this.buf;
    const kernel = this.kernel;
    const half = this.halfWidth;
    const steps = TABLE_STEPS_PER_SAMPLE;
    let pos = this.readPos;
    while (pos + half < this.bufLen) {
      const centre = Math.floor(pos);
      const frac = pos - centre;
      let acc = 0;
      // Taps left of and at the centre: distance frac + k; taps right: distance k - frac.
      for (let k = 0; k < half; k++) {
        const dl = (frac + k) * steps;
        const il = dl | 0;
        const wl = kernel[il] + (kernel[il + 1] - kernel[il]) * (dl - il);
        const dr = (k + 1 - frac) * steps;
        const ir = dr | 0;
        const wr = kernel[ir] + (kernel[ir + 1] - kernel[ir]) * (dr - ir);
        acc += buf[centre - k] * wl + buf[centre + 1 + k] * wr;
      }
      this.emit(acc);
      pos += this.step;
    }
    // Keep `half` samples of history before the next read position; drop the rest.
    const drop = Math.floor(pos) - half;
    if (drop > 0) {
      buf.copyWithin(0, drop, this.bufLen);
      this.bufLen -= drop;
      pos -= drop;
    }
    this.readPos = pos;
  }

  emit(sample) {
    const clipped = sample > 1 ? 1 : sample < -1 ? -1 : sample;
    this.frameView.setInt16(this.frameFill * 2, Math.round(clipped * 32767), true);
    this.frameFill++;
    this.sumSquares += clipped * clipped;
    this.levelSamples++;
    const magnitude = Math.abs(clipped);
    if (magnitude > this.peak) this.peak = magnitude;
    if (this.frameFill === FRAME_SAMPLES) this.flushFrame();
  }

  flushFrame() {
    const buffer = this.frame;
    this.port.postMessage({ type: "frame", buffer }, [buffer]);
    this.frame = new ArrayBuffer(FRAME_SAMPLES * 2);
    this.frameView = new DataView(this.frame);
    this.frameFill = 0;
    if (++this.framesSinceLevel >= FRAMES_PER_LEVEL) {
      this.port.postMessage({
        type: "level",
        rms: Math.sqrt(this.sumSquares / this.levelSamples),
        peak: this.peak,
      });
      this.framesSinceLevel = 0;
      this.sumSquares = 0;
      this.levelSamples = 0;
      this.peak = 0;
    }
  }
}

registerProcessor("etude-capture", EtudeCaptureProcessor);
