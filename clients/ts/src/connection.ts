// connection - one WebSocket to the gateway, speaking ZWS 2.0 as
// docs/protocol.md "WebSocket" says: subprotocol "ZWS2.0", each side's
// first message its routing ID (ours empty: one byte 0x00), then every
// WebSocket message one ZeroMQ frame, a flags byte (0x00 last, 0x01 more
// follow, 0x02 a command) before its bytes. A request is one frame holding
// a ClientRequest; each reply and push one frame holding a ClientReply.
//
// A dropped connection is made again (100 ms after the drop, doubling to 2
// s while it keeps failing); whoever uses the connection hears each new
// one (onOpen) and sends again what it still needs: an InboxSender its
// unanswered envelopes, a Watcher its subscriptions.
import { fromBinary } from "@bufbuild/protobuf";
import { TallyError } from "./errors.js";
import { ClientReplySchema, type ClientReply } from "./gen/tally_pb.js";

// What the client needs of a WebSocket: the browser API's shape (Node 20's
// global WebSocket under --experimental-websocket, Node 22's, and the `ws`
// package's all have it).
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly protocol: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: any) => void): void;
}
export type WebSocketConstructor = new (url: string, protocols: string | string[]) => WebSocketLike;

export interface ConnectionOptions {
  // The WebSocket constructor; by default the global one (browsers, Node 22,
  // Node 20 run with --experimental-websocket).
  WebSocket?: WebSocketConstructor;
  // The first wait before connecting again after a drop, and the longest.
  reconnectMs?: number;
  reconnectMaxMs?: number;
}

export const SUBPROTOCOL = "ZWS2.0";
const FLAG_MORE = 0x01;
const FLAG_COMMAND = 0x02;
const OPEN = 1;

function defaultWebSocket(): WebSocketConstructor {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!global)
    throw new TallyError("BAD_REQUEST",
      "no WebSocket API here: pass options.WebSocket (Node 20: run node with "
      + "--experimental-websocket, or pass the `ws` package's WebSocket; Node 22 has it)");
  return global;
}

function randomRequestId(): bigint {
  const words = new Uint32Array(2);
  globalThis.crypto.getRandomValues(words);
  return (BigInt(words[0]) << 32n) | BigInt(words[1]);
}

export class Connection {
  readonly url: string;
  private readonly WebSocketClass: WebSocketConstructor;
  private readonly reconnectMs: number;
  private readonly reconnectMaxMs: number;
  private socket: WebSocketLike | null = null;
  private openSocket: WebSocketLike | null = null;  // the socket that opened, until it is lost
  private greeted = false;      // the gateway's routing ID came
  private dropping = false;     // in a multi-frame message: dropped whole
  private closed = false;
  private retryMs: number;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private nextId = randomRequestId();
  private readonly replyListeners = new Set<(reply: ClientReply) => void>();
  private readonly openListeners = new Set<() => void>();
  private readonly closeListeners = new Set<() => void>();
  // Connections opened so far, and frames from the gateway that did not
  // decode (dropped).
  opened = 0;
  undecodable = 0;

  constructor(url: string, options: ConnectionOptions = {}) {
    if (typeof url !== "string" || !/^wss?:\/\//.test(url))
      throw new TallyError("BAD_REQUEST", `not a WebSocket URL (ws://HOST:PORT/PATH): ${url}`);
    this.url = url;
    this.WebSocketClass = options.WebSocket ?? defaultWebSocket();
    this.reconnectMs = options.reconnectMs ?? 100;
    this.reconnectMaxMs = options.reconnectMaxMs ?? 2000;
    this.retryMs = this.reconnectMs;
    this.open(true);
  }

  // True when a request sent now goes out on an open connection.
  get connected(): boolean {
    return this.socket !== null && this.socket.readyState === OPEN;
  }

  // A request ID of this connection: never 0 (what a gateway answers to a
  // request it could not decode), never one given before.
  requestId(): bigint {
    this.nextId = BigInt.asUintN(64, this.nextId + 1n);
    if (this.nextId === 0n) this.nextId = 1n;
    return this.nextId;
  }

  // Sends one ClientRequest; false when not connected (it is not queued:
  // the caller sends again when onOpen says a connection is there).
  send(request: Uint8Array): boolean {
    if (!this.connected) return false;
    const frame = new Uint8Array(request.length + 1);
    frame.set(request, 1);
    try {
      this.socket!.send(frame);
    } catch {
      return false;
    }
    return true;
  }

  // Every ClientReply from the gateway; returns a function that stops it.
  onReply(listener: (reply: ClientReply) => void): () => void {
    this.replyListeners.add(listener);
    return () => this.replyListeners.delete(listener);
  }

  // Each connection made (the first and every one after a drop).
  onOpen(listener: () => void): () => void {
    this.openListeners.add(listener);
    return () => this.openListeners.delete(listener);
  }

  // Each open connection lost (dropped, closed by the gateway or the
  // network, or closed for good): `connected` is false from then on.
  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  // The open socket is gone: tell who listens, once per open socket.
  private lost(socket: WebSocketLike): void {
    if (this.openSocket !== socket) return;
    this.openSocket = null;
    for (const listener of [...this.closeListeners]) listener();
  }

  // Gives up the present WebSocket, as a lost network would, and makes a
  // new one. (Its close handshake is not waited for: a peer that is gone
  // never answers it.)
  drop(): void {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    socket.close();
    this.lost(socket);
    this.scheduleRetry();
  }

  // Closes for good: no new connection, timers stopped.
  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    if (socket) this.lost(socket);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private open(first = false): void {
    this.retryTimer = null;
    if (this.closed) return;
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketClass(this.url, [SUBPROTOCOL]);
    } catch (error) {
      if (first)
        throw new TallyError("BAD_REQUEST", `cannot open ${this.url}: ${(error as Error).message}`);
      this.scheduleRetry();
      return;
    }
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    this.greeted = false;
    this.dropping = false;
    socket.addEventListener("open", () => {
      if (this.socket !== socket) return;
      this.retryMs = this.reconnectMs;
      this.opened++;
      this.openSocket = socket;
      socket.send(new Uint8Array([0x00]));  // our routing ID: none, the gateway picks one
      for (const listener of [...this.openListeners]) listener();
    });
    socket.addEventListener("message", (event: { data: unknown }) => {
      if (this.socket !== socket) return;
      this.onMessage(event.data);
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.lost(socket);
      this.scheduleRetry();
    });
    socket.addEventListener("error", () => {
      // A close event follows; nothing to do here.
    });
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.reconnectMaxMs);
    this.retryTimer = setTimeout(() => this.open(), wait);
  }

  private onMessage(data: unknown): void {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data)
                : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
                : null;
    if (!bytes) return;  // text: not ZWS
    if (!this.greeted) {
      this.greeted = true;  // the gateway's routing ID: not ours to use
      return;
    }
    if (bytes.length === 0) return;
    const flags = bytes[0];
    // The gateway sends one frame per answer; anything else is dropped whole.
    if (flags & FLAG_MORE) {
      this.dropping = true;
      return;
    }
    if (this.dropping || (flags & FLAG_COMMAND)) {
      this.dropping = false;
      return;
    }
    let reply: ClientReply;
    try {
      reply = fromBinary(ClientReplySchema, bytes.subarray(1));
    } catch {
      this.undecodable++;
      return;
    }
    for (const listener of [...this.replyListeners]) listener(reply);
  }
}
