// A local OTLP/HTTP trace receiver: POST /v1/traces in http/json or http/protobuf, both decoded to
// one span shape (the protobuf by a small reader of the wire format, for the fields tests look at).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span */
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer */
  kind: number;
  attributes: Record<string, unknown>;
  /** the resource's attributes (service.name, service.instance.id...) */
  resource: Record<string, unknown>;
  /** the request's content type */
  contentType: string;
}

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  /** POST requests received, whatever their path */
  requests: number;
  close(): Promise<void>;
}

export async function otlpReceiver(): Promise<OtlpReceiver> {
  const r: OtlpReceiver = { url: '', spans: [], requests: 0, close: async () => {} };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      r.requests++;
      const type = String(req.headers['content-type'] ?? '');
      const body = Buffer.concat(chunks);
      if (req.url === '/v1/traces' && type.startsWith('application/json')) {
        r.spans.push(...fromJson(JSON.parse(body.toString('utf8')), type));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else if (req.url === '/v1/traces' && type.startsWith('application/x-protobuf')) {
        r.spans.push(...fromProtobuf(body, type));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  r.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  };
  return r;
}

// --- http/json -------------------------------------------------------------------------------

interface JsonKeyValue {
  key: string;
  value: Record<string, unknown>;
}

const jsonAttributes = (list: JsonKeyValue[] | undefined) =>
  Object.fromEntries(
    (list ?? []).map((a) => {
      const v = a.value;
      const value =
        v.stringValue ?? v.boolValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.doubleValue);
      return [a.key, value];
    }),
  );

function fromJson(body: { resourceSpans?: unknown[] }, contentType: string): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of (body.resourceSpans ?? []) as {
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: { spans?: Record<string, unknown>[] }[];
  }[]) {
    const resource = jsonAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? [])
        out.push({
          traceId: String(s.traceId),
          spanId: String(s.spanId),
          parentSpanId: String(s.parentSpanId ?? ''),
          name: String(s.name),
          kind: Number(s.kind),
          attributes: jsonAttributes(s.attributes as JsonKeyValue[]),
          resource,
          contentType,
        });
  }
  return out;
}

// --- http/protobuf: the wire format, for the fields of ExportTraceServiceRequest read here -----

type Field = { no: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer };

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = () => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[at++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (at < buf.length) {
    const key = Number(varint());
    const no = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, varint: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      out.push({ no, bytes: buf.subarray(at, at + len) });
      at += len;
    } else if (wire === 1) {
      out.push({ no, fixed: buf.subarray(at, at + 8) });
      at += 8;
    } else if (wire === 5) {
      out.push({ no, fixed: buf.subarray(at, at + 4) });
      at += 4;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

const sub = (f: Field[], no: number) => f.filter((x) => x.no === no && x.bytes).map((x) => fields(x.bytes!));
const str = (f: Field[], no: number) => f.find((x) => x.no === no)?.bytes?.toString('utf8') ?? '';
const hex = (f: Field[], no: number) => f.find((x) => x.no === no)?.bytes?.toString('hex') ?? '';

/** KeyValue {1 key, 2 AnyValue {1 string, 2 bool, 3 int, 4 double}} */
function protoAttributes(list: Field[][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list) {
    const value = sub(kv, 2)[0] ?? [];
    const f = value[0];
    out[str(kv, 1)] =
      f?.no === 1
        ? f.bytes!.toString('utf8')
        : f?.no === 2
          ? f.varint === 1n
          : f?.no === 3
            ? Number(f.varint)
            : f?.no === 4
              ? f.fixed!.readDoubleLE(0)
              : undefined;
  }
  return out;
}

function fromProtobuf(body: Buffer, contentType: string): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  // ExportTraceServiceRequest {1 ResourceSpans {1 Resource {1 attributes}, 2 ScopeSpans {2 Span}}}
  for (const rs of sub(fields(body), 1)) {
    const resource = protoAttributes(sub(sub(rs, 1)[0] ?? [], 1));
    for (const ss of sub(rs, 2))
      for (const s of sub(ss, 2))
        out.push({
          traceId: hex(s, 1),
          spanId: hex(s, 2),
          parentSpanId: hex(s, 4),
          name: str(s, 5),
          kind: Number(s.find((x) => x.no === 6)?.varint ?? 0n),
          attributes: protoAttributes(sub(s, 9)),
          resource,
          contentType,
        });
  }
  return out;
}
