/// <reference types="node" />
import type { AddressInfo } from "node:net";
import { type WebSocket as ServerSocket, WebSocketServer } from "ws";

export type { ServerSocket };

/**
 * A stand-in for the worker, for what the real one only does after long waits
 * (4003 after 30 s, 4004 at token expiry), on a fault (1011, an error frame
 * 500) or never on purpose. It answers "ping" with "pong" and records every
 * frame each connection receives; `onConnection` scripts the rest.
 */
export interface StandIn {
  url: string;
  /** Per connection: its token, its socket, and each frame it received with when (Date.now()). */
  connections: { token: string | null; socket: ServerSocket; received: string[]; receivedAt: number[] }[];
  stop(): Promise<void>;
}

export async function standInServer(onConnection: (socket: ServerSocket, index: number) => void): Promise<StandIn> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((resolve) => server.once("listening", resolve));
  const connections: StandIn["connections"] = [];
  server.on("connection", (socket, request) => {
    const token = new URL(request.url ?? "/", "http://x").searchParams.get("token");
    const received: string[] = [];
    const receivedAt: number[] = [];
    socket.on("message", (data) => {
      received.push(data.toString());
      receivedAt.push(Date.now());
      if (data.toString() === "ping" && socket.readyState === socket.OPEN) socket.send("pong");
    });
    connections.push({ token, socket, received, receivedAt });
    onConnection(socket, connections.length - 1);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    connections,
    stop: () =>
      new Promise((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
