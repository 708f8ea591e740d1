// A real streaming request to an SSE endpoint, parsed as EventSource would, for the web app's tests.
// close() destroys the socket, as a browser does when the tab closes.
import { request as httpRequest, type IncomingMessage } from "node:http";

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

export interface OpenedEvents {
  res: { status: number; headers: Headers };
  events: SseEvent[];
  /** Every block the server sent, comments included. */
  raw: string[];
  /** Everything received so far, as text (an error answer's JSON). */
  text(): string;
  ended(): boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests inspect event data freely
  outputs(): any[];
  close(): Promise<void>;
}

/** Opens `path` on `baseUrl` with a Bearer token and/or extra headers (a Cookie, Last-Event-ID) and reads it until closed. */
export async function openEvents(baseUrl: string, path: string, options: { token?: string; headers?: Record<string, string> } = {}): Promise<OpenedEvents> {
  const headers = { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers };
  const req = httpRequest(`${baseUrl}${path}`, { headers });
  const incoming = await new Promise<IncomingMessage>((resolve, reject) => req.on("response", resolve).on("error", reject).end());
  const res = { status: incoming.statusCode!, headers: new Headers() };
  for (const [name, value] of Object.entries(incoming.headers)) for (const v of [value ?? []].flat()) res.headers.append(name, v);
  const events: SseEvent[] = [];
  const raw: string[] = [];
  let ended = false;
  let text = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const value of incoming as AsyncIterable<Buffer>) {
        const decoded = decoder.decode(value, { stream: true });
        text += decoded;
        buffer += decoded;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) !== -1) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          raw.push(block);
          const event: SseEvent = { event: "message", data: "" };
          let isEvent = false;
          for (const line of block.split("\n")) {
            const [field, ...rest] = line.split(":");
            const value = rest.join(":").replace(/^ /, "");
            if (field === "event") event.event = value;
            if (field === "id") event.id = value;
            if (field === "data") event.data += value;
            if (field === "event" || field === "data") isEvent = true;
          }
          if (isEvent) events.push(event);
        }
      }
    } catch {
      // The connection broke (or close() cut it): the stream has ended either way, which tests check.
    }
    ended = true;
  })();
  return {
    res,
    events,
    raw,
    text: () => text,
    ended: () => ended,
    outputs: () => events.filter((e) => e.event === "output").map((e) => ({ id: e.id, ...JSON.parse(e.data) })),
    close: async () => {
      req.destroy();
      await reading;
    },
  };
}

