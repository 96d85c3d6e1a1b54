// The Socket.IO parser of the hub: socket.io-parser's stock Encoder (what clients receive is
// unchanged) and a Decoder of the same string format whose JSON is read by readJson, so that a
// number of more than 15 significant digits reaches the schemas as an UnsafeNumber instead of
// being rounded by JSON.parse. Given to the Server as its `parser` option, a public option
// (socket.io docs, "Custom parser").
import { EventEmitter } from 'node:events';
import { Encoder, type Packet, PacketType } from 'socket.io-parser';
import { readJson } from '../domain/json.js';

/** Event names a client may not send (socket.io-parser refuses the same). */
const RESERVED_EVENTS = new Set([
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
]);

const ACCEPTED_TYPES = new Set<number>([
  PacketType.CONNECT,
  PacketType.DISCONNECT,
  PacketType.EVENT,
  PacketType.ACK,
]);

const isObject = (v: unknown): boolean => Object.prototype.toString.call(v) === '[object Object]';

function payloadValid(type: PacketType, data: unknown): boolean {
  switch (type) {
    case PacketType.CONNECT:
      return data === undefined || isObject(data);
    case PacketType.DISCONNECT:
      return data === undefined;
    case PacketType.EVENT:
      return (
        Array.isArray(data) &&
        (typeof data[0] === 'number' || (typeof data[0] === 'string' && !RESERVED_EVENTS.has(data[0])))
      );
    case PacketType.ACK:
      return Array.isArray(data);
    default:
      return false;
  }
}

/**
 * Decodes one packet of the default string format, `<type>[<nsp>,][<ackId>][<json>]`. Only what a
 * client sends to the hub is accepted: CONNECT, DISCONNECT, EVENT and ACK. Binary packets are
 * refused (the hub's protocol is JSON; the bundled client and the dashboard send no binary).
 * Throws on anything malformed; socket.io then closes that connection, as with the stock parser.
 */
export function decodePacket(str: string): Packet {
  const type = str.charCodeAt(0) - 48;
  if (!ACCEPTED_TYPES.has(type)) throw new Error('unknown or unsupported packet type');
  let i = 1;
  let nsp = '/';
  if (str.charCodeAt(i) === 47 /* "/" */) {
    const comma = str.indexOf(',', i);
    const end = comma === -1 ? str.length : comma;
    nsp = str.slice(i, end);
    i = comma === -1 ? end : end + 1;
  }
  const packet: Packet = { type, nsp };
  const idStart = i;
  while (i < str.length && str.charCodeAt(i) >= 48 && str.charCodeAt(i) <= 57) i++;
  if (i > idStart) {
    const id = Number(str.slice(idStart, i));
    if (!Number.isSafeInteger(id)) throw new Error('invalid ack id');
    packet.id = id;
  }
  if (i < str.length) packet.data = readJson(str.slice(i));
  if (!payloadValid(type, packet.data)) throw new Error('invalid payload');
  return packet;
}

/** socket.io's decoder interface: `add` a chunk, `decoded` is emitted per packet, `destroy` at close. */
export class Decoder extends EventEmitter {
  add(chunk: unknown): void {
    if (typeof chunk !== 'string') throw new Error('binary packets are not accepted');
    this.emit('decoded', decodePacket(chunk));
  }

  destroy(): void {}
}

/** The `parser` option of the hub's Socket.IO server. */
export const hubParser = { Encoder, Decoder };
