/**
 * Microphone capture: getUserMedia → AudioWorklet "etude-capture" → 20 ms frames of 16 kHz Int16 PCM.
 *
 * Call startCapture() directly from a click or key handler: the AudioContext is created and resumed before
 * the first await, while the user gesture still counts, so browsers let it run.
 */

export const CAPTURE_SAMPLE_RATE_HZ = 16000;

const WORKLET_URL = new URL("./capture-worklet.js", import.meta.url);

const MIC_CONSTRAINTS = {
  audio: {
    echoCancellation: false,
    noiseSuppression: false,
    autoGainControl: false,
    channelCount: 1,
  },
  video: false,
};

/** A readable sentence for the ways getUserMedia and AudioWorklet fail. */
export function describeCaptureError(error) {
  switch (error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Microphone access was refused. Allow the microphone for this site and press Start again.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No microphone was found. Connect one and press Start again.";
    case "NotReadableError":
      return "The microphone is in use by another program or could not be opened.";
    default:
      return `The microphone could not be started (${(error && error.message) || error}).`;
  }
}

/**
 * Start capturing. `onFrame(arrayBuffer)` receives each 640-byte frame (320 samples, little-endian Int16);
 * `onLevel({rms, peak})` about ten times a second; `options.onEnded()` if the microphone goes away.
 * Resolves to {stop(), sampleRate, contextSampleRate}; rejects with the getUserMedia/worklet error after
 * releasing whatever it had opened.
 */
export async function startCapture(onFrame, onLevel, options = {}) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    const error = new Error("This browser cannot record audio here (a secure https:// page is needed).");
    error.name = "SecurityError";
    throw error;
  }
  if (typeof AudioWorkletNode === "undefined") {
    throw new Error("This browser does not support AudioWorklet; please use a current browser.");
  }
  const context = new AudioContext({ latencyHint: "interactive" });
  const resumed = context.resume();
  let stream = null;
  try {
    stream = await navigator.mediaDevices.getUserMedia(MIC_CONSTRAINTS);
    await resumed;
    await context.audioWorklet.addModule(WORKLET_URL.href);
  } catch (error) {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    context.close().catch(() => {});
    throw error;
  }

  const source = context.createMediaStreamSource(stream);
  const worklet = new AudioWorkletNode(context, "etude-capture", {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    outputChannelCount: [1],
    channelCount: 1,
    channelCountMode: "explicit",
    channelInterpretation: "speakers",
    processorOptions: { sampleRate: context.sampleRate },
  });
  // Some engines only pull nodes that reach the destination; a zero gain keeps it silent.
  const mute = new GainNode(context, { gain: 0 });
  source.connect(worklet);
  worklet.connect(mute);
  mute.connect(context.destination);

  let isStopped = false;
  worklet.port.onmessage = (event) => {
    if (isStopped) return;
    const message = event.data;
    if (message.type === "frame") onFrame(message.buffer);
    else if (message.type === "level" && onLevel) onLevel({ rms: message.rms, peak: message.peak });
  };

  const [track] = stream.getAudioTracks();
  if (track && options.onEnded) {
    track.addEventListener("ended", () => {
      if (!isStopped) options.onEnded();
    });
  }

  function stop() {
    if (isStopped) return;
    isStopped = true;
    worklet.port.postMessage({ type: "stop" });
    worklet.port.onmessage = null;
    source.disconnect();
    worklet.disconnect();
    mute.disconnect();
    stream.getTracks().forEach((t) => t.stop());
    context.close().catch(() => {});
  }

  return {
    stop,
    sampleRate: CAPTURE_SAMPLE_RATE_HZ,
    contextSampleRate: context.sampleRate,
    trackLabel: track ? track.label : "",
  };
}
