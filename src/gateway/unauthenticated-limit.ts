import type { IncomingMessage } from 'node:http';
import type { HubServer, HubSocket } from './server.js';

type EngineConnection = HubSocket['conn'];

/** One address's place, given back once, by whichever of its ends comes first. */
interface Slot {
  address: string;
  released: boolean;
  /** removes the listener that would give the slot back when the current holder closes */
  detach(): void;
}

/**
 * At most `perAddress` engine connections per client address that have not authenticated yet:
 * counted from the handshake request (Engine.IO's `allowRequest`), given back when the
 * connection's socket connects to the namespace or when it closes. The count is taken in the same
 * synchronous step as the decision, so parallel handshakes cannot all see room for one more.
 *
 * Between the handshake request and its engine connection the request's TCP socket stands for it:
 * a handshake that fails after being admitted (an aborted upgrade) gives its slot back when that
 * socket closes, or at once when Engine.IO reports the failure.
 */
export class UnauthenticatedLimit {
  private readonly open = new Map<string, number>();
  private readonly byRequest = new WeakMap<IncomingMessage, Slot>();
  private readonly byConnection = new WeakMap<EngineConnection, Slot>();

  constructor(
    private readonly perAddress: number,
    private readonly addressOf: (req: IncomingMessage) => string,
  ) {}

  /** Takes a slot for the request's address; false when that address has none left. */
  admit(req: IncomingMessage): boolean {
    const address = this.addressOf(req);
    const n = this.open.get(address) ?? 0;
    if (n >= this.perAddress) return false;
    this.open.set(address, n + 1);
    const tcp = req.socket;
    const lost = () => this.release(slot);
    const slot: Slot = { address, released: false, detach: () => tcp.off('close', lost) };
    tcp.once('close', lost);
    this.byRequest.set(req, slot);
    return true;
  }

  /** Follows each admitted handshake to its engine connection and its namespace socket. */
  install(io: HubServer): void {
    io.engine.on('connection', (conn: EngineConnection) => {
      const slot = this.take(this.byRequest, conn.request);
      if (!slot || slot.released) return;
      const lost = () => this.release(slot);
      slot.detach = () => conn.off('close', lost);
      conn.once('close', lost);
      this.byConnection.set(conn, slot);
    });
    io.engine.on('connection_error', (err: { req?: IncomingMessage }) => {
      const slot = err.req && this.take(this.byRequest, err.req);
      if (slot) this.release(slot);
    });
    io.on('connection', (socket) => {
      const slot = this.take(this.byConnection, socket.conn);
      if (slot) this.release(slot);
    });
  }

  /** the slot held for `key`, no longer held there */
  private take<K extends object>(map: WeakMap<K, Slot>, key: K): Slot | undefined {
    const slot = map.get(key);
    if (slot) {
      map.delete(key);
      slot.detach();
    }
    return slot;
  }

  private release(slot: Slot): void {
    if (slot.released) return;
    slot.released = true;
    const n = this.open.get(slot.address) ?? 0;
    if (n <= 1) this.open.delete(slot.address);
    else this.open.set(slot.address, n - 1);
  }
}
