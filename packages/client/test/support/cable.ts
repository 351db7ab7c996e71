import { createServer, type Server, Socket } from 'node:net';

/**
 * A TCP "network cable" between a client and a real server, for tests of lost links. `unplug()`
 * cuts every open connection and refuses new ones, as a lost network would; `plug()` restores it;
 * `retarget()` points new connections at another server (a client reconnecting to another edge);
 * `dropNextReply()` lets the next connection's request through but cuts it before the answer, so
 * the server acted and the client never heard back.
 */
export class Cable {
  private readonly sockets = new Set<Socket>();
  private plugged = true;
  private dropReply = false;
  private constructor(
    private readonly server: Server,
    private target: number,
    readonly port: number,
  ) {}

  static async open(targetPort: number): Promise<Cable> {
    let cable: Cable | undefined;
    const server = createServer((client) => cable?.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cable = new Cable(server, targetPort, (server.address() as { port: number }).port);
    return cable;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  unplug(): void {
    this.plugged = false;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  plug(): void {
    this.plugged = true;
  }

  retarget(port: number): void {
    this.target = port;
  }

  dropNextReply(): void {
    this.dropReply = true;
  }

  async close(): Promise<void> {
    this.unplug();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket): void {
    if (!this.plugged) {
      client.destroy();
      return;
    }
    const upstream = new Socket();
    const drop = this.dropReply;
    this.dropReply = false;
    this.sockets.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    upstream.connect(this.target, '127.0.0.1', () => {
      client.pipe(upstream);
      if (drop) upstream.once('data', end);
      else upstream.pipe(client);
    });
  }
}
