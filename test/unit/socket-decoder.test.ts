import fc from 'fast-check';
import { Encoder, type Packet, PacketType, Decoder as StockDecoder } from 'socket.io-parser';
import { describe, expect, test } from 'vitest';
import { UnsafeNumber } from '../../src/domain/json.js';
import { Decoder, decodePacket } from '../../src/gateway/json-parser.js';

/** What the decoder emits for one chunk, or the error it throws. */
function decode(chunk: unknown): Packet {
  const decoder = new Decoder();
  const out: Packet[] = [];
  decoder.on('decoded', (p: Packet) => out.push(p));
  decoder.add(chunk);
  expect(out).toHaveLength(1);
  return out[0]!;
}

function stockDecode(chunk: string): Packet {
  const decoder = new StockDecoder();
  let out: Packet | undefined;
  decoder.on('decoded', (p: Packet) => {
    out = p;
  });
  decoder.add(chunk);
  return out!;
}

describe('every packet the hub receives', () => {
  test('CONNECT with an auth payload, and without', () => {
    expect(decode('0{"token":"eyJ.x.y","lastEventId":"1618018304"}')).toEqual({
      type: PacketType.CONNECT,
      nsp: '/',
      data: { token: 'eyJ.x.y', lastEventId: '1618018304' },
    });
    expect(decode('0')).toEqual({ type: PacketType.CONNECT, nsp: '/' });
    expect(decode('0/admin,{"token":"t"}')).toEqual({
      type: PacketType.CONNECT,
      nsp: '/admin',
      data: { token: 't' },
    });
  });

  test('EVENT with an ack id', () => {
    expect(decode('2123["swap:accept",{"requestId":"r","swapId":"s","round":1}]')).toEqual({
      type: PacketType.EVENT,
      nsp: '/',
      id: 123,
      data: ['swap:accept', { requestId: 'r', swapId: 's', round: 1 }],
    });
  });

  test('EVENT without an ack id, and in a namespace', () => {
    expect(decode('2["feed:unsubscribe",{}]')).toEqual({
      type: PacketType.EVENT,
      nsp: '/',
      data: ['feed:unsubscribe', {}],
    });
    expect(decode('2/admin,7["x",1]')).toEqual({
      type: PacketType.EVENT,
      nsp: '/admin',
      id: 7,
      data: ['x', 1],
    });
  });

  test('DISCONNECT and ACK', () => {
    expect(decode('1')).toEqual({ type: PacketType.DISCONNECT, nsp: '/' });
    expect(decode('1/admin,')).toEqual({ type: PacketType.DISCONNECT, nsp: '/admin' });
    expect(decode('35[{"ok":true}]')).toEqual({
      type: PacketType.ACK,
      nsp: '/',
      id: 5,
      data: [{ ok: true }],
    });
  });

  test('a JSON number of more than 15 significant digits arrives as an UnsafeNumber', () => {
    const p = decode('21["listing:create",{"volumeKwh":2.9999999999999999,"pricePerKwh":12.5}]');
    expect(p.data).toEqual([
      'listing:create',
      { volumeKwh: new UnsafeNumber('2.9999999999999999'), pricePerKwh: 12.5 },
    ]);
  });

  test('whatever the stock encoder writes decodes as the stock decoder reads it', () => {
    const encoder = new Encoder();
    const packets = fc.oneof(
      fc.record({
        type: fc.constant(PacketType.EVENT),
        nsp: fc.constantFrom('/', '/admin'),
        id: fc.option(fc.nat(), { nil: undefined }),
        data: fc.tuple(fc.constantFrom('listing:create', 'swap:counter', 'x'), fc.jsonValue()),
      }),
      fc.record({
        type: fc.constant(PacketType.CONNECT),
        nsp: fc.constant('/'),
        data: fc.option(fc.dictionary(fc.string(), fc.jsonValue()), { nil: undefined }),
      }),
      fc.record({
        type: fc.constant(PacketType.ACK),
        nsp: fc.constant('/'),
        id: fc.nat(),
        data: fc.array(fc.jsonValue()),
      }),
    );
    fc.assert(
      fc.property(packets, (packet) => {
        const [text] = encoder.encode(packet as Packet) as string[];
        const mine = decode(text);
        // numbers of more than 15 significant digits are the only difference, and JSON.parse rounds them
        const rounded = JSON.parse(
          JSON.stringify(mine, (_k, v) => (v instanceof UnsafeNumber ? Number(v.text) : v)),
        );
        expect(rounded).toEqual(JSON.parse(JSON.stringify(stockDecode(text!))));
      }),
      { numRuns: 300 },
    );
  });
});

describe('malformed input throws (socket.io then closes that connection) and never emits', () => {
  test.each([
    ['empty', ''],
    ['an unknown type', '9["x"]'],
    ['CONNECT_ERROR from a client', '4{"message":"x"}'],
    ['a binary event', '51-["x",{"_placeholder":true,"num":0}]'],
    ['a binary ack', '61-1[{"_placeholder":true,"num":0}]'],
    ['an event without data', '2'],
    ['an event that is not an array', '2{"a":1}'],
    ['an event without a name', '2[]'],
    ['a reserved event name', '2["disconnect"]'],
    ['an event name that is an object', '2[{}]'],
    ['invalid JSON', '2["listing:create",'],
    ['trailing garbage', '2["x"]]'],
    ['a CONNECT payload that is an array', '0[1]'],
    ['a CONNECT payload that is a string', '0"token"'],
    ['a DISCONNECT with data', '1{}'],
    ['an ACK that is not an array', '31{"ok":true}'],
    ['an ack id beyond 2^53', '29007199254740993["x"]'],
    ['a lone namespace without comma and garbage', '2/admin'],
    [
      'JSON nested too deep for any parser',
      `2["x",${'['.repeat(20_000)}1234567890123456${']'.repeat(20_000)}]`,
    ],
  ])('%s', (_name, chunk) => {
    const decoder = new Decoder();
    let emitted = false;
    decoder.on('decoded', () => {
      emitted = true;
    });
    expect(() => decoder.add(chunk)).toThrow();
    expect(emitted).toBe(false);
  });

  test('binary chunks are refused', () => {
    const decoder = new Decoder();
    expect(() => decoder.add(Buffer.from([1, 2, 3]))).toThrow(/binary/);
    expect(() => decoder.add(new ArrayBuffer(2))).toThrow(/binary/);
    decoder.destroy();
  });

  test('decodePacket is the decoder without the emitter', () => {
    expect(decodePacket('2["x"]')).toEqual({ type: PacketType.EVENT, nsp: '/', data: ['x'] });
  });
});
