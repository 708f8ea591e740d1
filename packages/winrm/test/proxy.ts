// A TCP proxy for tests: records the bytes in both directions and can cut the server side of every
// connection while the client side stays open, the way a load balancer or server restart would.
import net from "node:net";
import type { AddressInfo } from "node:net";

/** A running recording proxy. */
export interface RecordingProxy {
  port: number;
  /** Everything the client sent, in order. */
  sent(): Buffer;
  /** Everything the server answered, in order. */
  received(): Buffer;
  /** Closes the upstream half of every connection; the next bytes from a client open a fresh one. */
  dropUpstream(): void;
  /** Resets (TCP RST) the client connection that sends the next bytes, before they reach the server: a kept-alive socket gone stale. */
  resetNextRequest(): void;
  close(): Promise<void>;
}

/** Starts a proxy on a loopback port forwarding to `target`. */
export async function startRecordingProxy(target: { host: string; port: number }): Promise<RecordingProxy> {
  const sent: Buffer[] = [];
  const received: Buffer[] = [];
  const upstreams = new Set<net.Socket>();
  const clients = new Set<net.Socket>();
  let resetNext = false;
  const server = net.createServer((client) => {
    clients.add(client);
    let upstream: net.Socket | undefined;
    const open = (): net.Socket => {
      const socket = net.connect(target.port, target.host);
      upstreams.add(socket);
      socket.on("data", (data: Buffer) => {
        received.push(Buffer.from(data));
        client.write(data);
      });
      socket.on("error", () => client.destroy());
      socket.on("close", () => {
        upstreams.delete(socket);
        if (upstream === socket) upstream = undefined;
      });
      return socket;
    };
    client.on("data", (data: Buffer) => {
      if (resetNext) {
        resetNext = false;
        client.resetAndDestroy();
        return;
      }
      sent.push(Buffer.from(data));
      upstream ??= open();
      upstream.write(data);
    });
    client.on("error", () => undefined);
    client.on("close", () => {
      clients.delete(client);
      upstream?.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sent: () => Buffer.concat(sent),
    received: () => Buffer.concat(received),
    dropUpstream: () => {
      for (const socket of upstreams) socket.destroy();
    },
    resetNextRequest: () => {
      resetNext = true;
    },
    close: async () => {
      for (const socket of [...upstreams, ...clients]) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
