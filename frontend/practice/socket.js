/**
 * Client for the practice WebSocket (/ws/practice/<take_id>/), protocol in DESIGN.md.
 *
 * Text out: {"type":"start",...} once, {"type":"stop"} at the end; binary out: Int16 PCM frames.
 * JSON in: dispatched by "type" to handlers.position / verdict / command / summary / error / started /
 * saved; unknown types are ignored so the server can add events without breaking old pages.
 * Lifecycle handlers: handlers.open(), handlers.close(CloseEvent), handlers.dropped(totalDropped).
 */

export const EVENT_TYPES = ["position", "verdict", "command", "summary", "error", "started", "saved"];

// 32 kB/s of 16 kHz Int16 audio: the socket may hold about 2 s of unsent audio before frames wait here,
// and the wait queue keeps at most 5 s; beyond that the oldest frames are dropped.
const MAX_BUFFERED_BYTES = 64 * 1024;
const MAX_QUEUED_FRAMES = 250;
const DROP_WARNING_INTERVAL_MS = 5000;

/** ws:// or wss:// URL for a path on this site; absolute ws(s) URLs pass through. */
export function socketUrl(wsPath, where = window.location) {
  if (/^wss?:\/\//i.test(wsPath)) return wsPath;
  const scheme = where.protocol === "https:" ? "wss:" : "ws:";
  const path = wsPath.startsWith("/") ? wsPath : `/${wsPath}`;
  return `${scheme}//${where.host}${path}`;
}

export function openPracticeSocket(wsPath, handlers = {}) {
  const ws = new WebSocket(socketUrl(wsPath));
  ws.binaryType = "arraybuffer";
  const queue = [];
  let startMessage = null;
  let isStartSent = false;
  let isStopRequested = false;
  let framesSent = 0;
  let framesDropped = 0;
  let lastDropWarning = 0;

  function call(name, ...args) {
    const handler = handlers[name];
    if (typeof handler !== "function") return;
    try {
      handler(...args);
    } catch (error) {
      console.error(`etude: the ${name} handler failed`, error);
    }
  }

  function isOpen() {
    return ws.readyState === WebSocket.OPEN;
  }

  function sendText(message) {
    ws.send(JSON.stringify(message));
  }

  /** Send queued frames while the socket keeps up; `isFinal` sends them all (the queue is bounded). */
  function flush(isFinal = false) {
    if (!isOpen() || !isStartSent) return;
    while (queue.length > 0 && (isFinal || ws.bufferedAmount < MAX_BUFFERED_BYTES)) {
      ws.send(queue.shift());
      framesSent++;
    }
  }

  function dropOldest() {
    queue.shift();
    framesDropped++;
    const now = Date.now();
    if (now - lastDropWarning > DROP_WARNING_INTERVAL_MS) {
      lastDropWarning = now;
      console.warn(`etude: connection too slow, ${framesDropped} audio frames dropped so far`);
      call("dropped", framesDropped);
    }
  }

  ws.addEventListener("open", () => {
    call("open");
    if (startMessage && !isStartSent) {
      sendText(startMessage);
      isStartSent = true;
    }
    flush(isStopRequested);
    if (isStopRequested && isStartSent) sendText({ type: "stop" });
  });

  ws.addEventListener("message", (event) => {
    if (typeof event.data !== "string") return;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      console.warn("etude: ignoring a message that is not JSON", event.data);
      return;
    }
    if (message && EVENT_TYPES.includes(message.type)) call(message.type, message);
  });

  ws.addEventListener("close", (event) => call("close", event));
  ws.addEventListener("error", () => console.warn("etude: WebSocket error on", ws.url));

  return {
    /** Send the start message now, or as soon as the socket opens. */
    start({ fromMeasure = 1, tempoFactor = 1.0, sampleRate = 16000 } = {}) {
      startMessage = {
        type: "start",
        sample_rate: sampleRate,
        from_measure: fromMeasure,
        tempo_factor: tempoFactor,
      };
      if (isOpen() && !isStartSent) {
        sendText(startMessage);
        isStartSent = true;
        flush();
      }
    },

    /** Send one binary frame; before start, or while the socket is backed up, it waits in a bounded queue. */
    sendFrame(buffer) {
      if (isStopRequested || ws.readyState > WebSocket.OPEN) return;
      queue.push(buffer);
      flush();
      while (queue.length > MAX_QUEUED_FRAMES) dropOldest();
    },

    /** Send a control message (e.g. push_to_talk) if the take has started; false when it could not. */
    send(message) {
      if (!isOpen() || !isStartSent || isStopRequested) return false;
      sendText(message);
      return true;
    },

    /** Send what is queued, then {"type":"stop"}; the socket stays open for summary and saved. */
    stop() {
      if (isStopRequested) return;
      flush(true);
      isStopRequested = true;
      if (isOpen() && isStartSent) sendText({ type: "stop" });
    },

    close(code = 1000, reason = "done") {
      queue.length = 0;
      if (ws.readyState <= WebSocket.OPEN) ws.close(code, reason);
    },

    get framesSent() {
      return framesSent;
    },
    get framesDropped() {
      return framesDropped;
    },
    get readyState() {
      return ws.readyState;
    },
  };
}
