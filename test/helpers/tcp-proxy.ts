// A TCP proxy on 127.0.0.1 in front of PostgreSQL (or nothing), for outage tests: it
// forwards, refuses (stopped), swallows everything (a black hole), or cuts a connection at
// the moment the server reports it idle inside a transaction.
import { connect, createServer, type Server, type Socket } from "node:net";

export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private mode: "forward" | "blackhole" = "forward";
  /** Cut the connection after this many more "idle in transaction" ReadyForQuery messages. */
  private cutAfter: number | undefined;
  port = 0;

  constructor(private readonly target?: { host: string; port: number }) {}

  /** A proxy in front of the database of this postgres:// URL, and the URL through it. */
  static async before(url: string): Promise<{ proxy: TcpProxy; url: string }> {
    const u = new URL(url);
    const proxy = await new TcpProxy({ host: u.hostname, port: Number(u.port || 5432) }).start();
    u.hostname = "127.0.0.1";
    u.port = String(proxy.port);
    return { proxy, url: u.toString() };
  }

  async start(): Promise<this> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
    return this;
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on("close", () => this.sockets.delete(s));
    s.on("error", () => {});
  }

  private accept(client: Socket): void {
    this.track(client);
    if (this.mode === "blackhole" || !this.target) return;
    const upstream = connect(this.target.port, this.target.host);
    this.track(upstream);
    client.pipe(upstream);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    // Server → client, message by message (type byte, int32 length), so that a cut can
    // land right after a ReadyForQuery ('Z') whose status is 'T' (idle in transaction).
    let pending = Buffer.alloc(0);
    upstream.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      let at = 0;
      while (pending.length - at >= 5) {
        const len = pending.readUInt32BE(at + 1);
        if (pending.length - at < 1 + len) break;
        const type = String.fromCharCode(pending[at]!);
        const status = String.fromCharCode(pending[at + 5]!);
        at += 1 + len;
        if (type === "Z" && status === "T" && this.cutAfter !== undefined && --this.cutAfter <= 0) {
          this.cutAfter = undefined;
          client.write(pending.subarray(0, at));
          // The client has its answer; the connection dies before its next statement.
          setTimeout(() => {
            client.destroy();
            upstream.destroy();
          }, 5);
          pending = Buffer.alloc(0);
          return;
        }
      }
      client.write(pending.subarray(0, at));
      pending = pending.subarray(at);
    });
  }

  /** Cut the next connection that reports itself idle in a transaction for the n-th time. */
  cutInTransaction(n = 1): void {
    this.cutAfter = n;
  }

  /** Every connection from now on, and every one open, goes nowhere and gets no answer. */
  blackhole(): void {
    this.mode = "blackhole";
    for (const s of this.sockets) {
      s.unpipe();
      s.removeAllListeners("data");
      s.pause();
    }
  }

  /** Forwards new connections again; the ones swallowed stay swallowed. */
  forward(): void {
    this.mode = "forward";
  }

  /** Listener closed and connections reset: the database refuses. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Forwarding again on the same port (the database is back). */
  async restart(): Promise<void> {
    await this.stop();
    this.mode = "forward";
    await this.start();
  }
}
