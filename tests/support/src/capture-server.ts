// A plain HTTP server that records every request's headers and refuses it as a WinRM listener
// would before authentication, so a client that was going to send credentials does send them.
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll } from "vitest";

export interface CaptureServer {
  host: string;
  port: number;
  /** Headers of every request received, in order. */
  requests: http.IncomingHttpHeaders[];
  /** TCP connections accepted, whether or not a request followed. */
  connections(): number;
  /** The Authorization headers received. */
  authorizations(): string[];
}

/** Starts a capture server on `host` (e.g. 127.0.0.3); it stops after the test file. */
export async function startCaptureServer(host: string): Promise<CaptureServer> {
  const requests: http.IncomingHttpHeaders[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = http.createServer((req, res) => {
    requests.push(req.headers);
    req.resume();
    req.on("end", () => {
      res.writeHead(401, { "WWW-Authenticate": ["Negotiate", 'Basic realm="WSMAN"'], "Content-Length": "0" });
      res.end();
    });
  });
  server.on("connection", (socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    host,
    port: (server.address() as AddressInfo).port,
    requests,
    connections: () => connections,
    authorizations: () => requests.map((h) => h.authorization).filter((v): v is string => typeof v === "string"),
  };
}
