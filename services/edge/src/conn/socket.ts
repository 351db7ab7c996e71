import { WebSocket } from 'ws';

/** What an EdgeSocket hands its inbound events to: the connection it belongs to. */
export interface SocketOwner {
  alive: boolean;
  received(data: Buffer, isBinary: boolean): void;
  socketClosed(): void;
}

/**
 * The edge's WebSocket class (ws's `WebSocket` option): a socket's message, pong and close go
 * straight to its connection, without a listener per event. ws keeps a socket's listeners in a
 * dictionary that grows past three event names, and message, pong and close next to the error
 * listener cost ~96 bytes per connection; other listeners (a replay waiting for a close) still run.
 */
export class EdgeSocket extends WebSocket {
  owner: SocketOwner | undefined = undefined;

  /**
   * Called by us and by ws itself (the peer's close frame, a protocol error): the connection leaves
   * its rooms as the closing handshake starts, not when it ends, so no room frame follows the close
   * frame. Its own close() has left them already (owner unset then).
   */
  override close(code?: number, data?: string | Buffer): void {
    this.owner?.socketClosed();
    super.close(code, data);
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    const c = this.owner;
    if (c !== undefined) {
      if (event === 'message') c.received(args[0] as Buffer, args[1] as boolean);
      else if (event === 'pong') c.alive = true;
      else if (event === 'close') c.socketClosed();
    }
    return super.emit(event, ...args);
  }
}
