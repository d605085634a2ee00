// Client sessions over the `ws` package, as an SDK would hold them.
import { performance } from "node:perf_hooks";
import WebSocket from "ws";

/**
 * Opens a session and sends "ping" at once: on a hibernatable socket that
 * never sent a frame, local workerd can delay the client's close event by ~10 s.
 * Resolves when the upgrade succeeded; rejects with the refusal otherwise.
 */
export function openSession(baseUrl, { uid, token, platform }) {
  const url = `${baseUrl.replace(/^http/, "ws")}/?sendID=${encodeURIComponent(uid)}&token=${encodeURIComponent(token)}&platformID=${platform}`;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const session = { ws, uid, platform, closeCode: undefined, pongs: 0 };
    ws.on("message", (data) => {
      if (data.toString() === "pong") session.pongs++;
    });
    ws.on("close", (code) => {
      session.closeCode = code;
    });
    ws.once("open", () => {
      session.handshakeMs = performance.now() - t0;
      ws.send("ping");
      resolve(session);
    });
    ws.once("unexpected-response", (_request, response) => {
      reject(new Error(`upgrade refused: HTTP ${response.statusCode}`));
      ws.terminate();
    });
    // After open, errors show up as a close; before it, they are a failed connect.
    ws.on("error", (error) => {
      if (ws.readyState === WebSocket.CONNECTING) reject(error);
    });
  });
}

export function isOpen(session) {
  return session.ws.readyState === WebSocket.OPEN;
}

/** Resolves when the server's close frame (or a drop) reached the client. */
export function closed(session) {
  if (session.ws.readyState === WebSocket.CLOSED) return Promise.resolve(session.closeCode);
  return new Promise((resolve) => session.ws.once("close", (code) => resolve(code)));
}

/** Closes every session cleanly and resolves once each close reached its client. */
export function closeAll(sessions) {
  return Promise.all(
    sessions.map((session) => {
      session.ws.close(1000);
      return closed(session);
    }),
  );
}

/**
 * Sends "ping" on every open socket once per periodMs, spread over the period
 * in one-second slices so 10,000 sockets do not ping in the same millisecond.
 */
export function keepAlive(sessions, periodMs) {
  const slices = Math.max(1, Math.round(periodMs / 1000));
  let tick = 0;
  const timer = setInterval(() => {
    const slice = tick++ % slices;
    for (let i = slice; i < sessions.length; i += slices) {
      if (isOpen(sessions[i])) sessions[i].ws.send("ping");
    }
  }, 1000);
  return () => clearInterval(timer);
}
