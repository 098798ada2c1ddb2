/**
 * @module wire/protocol/frontend
 * Decoding of the frontend messages Orbit inspects or rewrites, and encoding of the ones it sends to
 * PGlite itself. Field layouts follow the manual's "Message Formats".
 */
import { FrontendMessage, StartupCode } from './message-codes.js';
import { malformed, MessageReader } from './reader.js';
import { MessageWriter } from './writer.js';

export interface ParseMessage {
  readonly name: string;
  readonly query: string;
  readonly paramTypes: number[];
}

export function readParse(body: Uint8Array): ParseMessage {
  const r = new MessageReader(body);
  const name = r.cstring();
  const query = r.cstring();
  const n = r.uint16();
  const paramTypes: number[] = [];
  for (let i = 0; i < n; i++) paramTypes.push(r.int32() >>> 0);
  return { name, query, paramTypes };
}

export function writeParse(m: ParseMessage): Uint8Array {
  const w = new MessageWriter().begin(FrontendMessage.Parse).cstring(m.name).cstring(m.query).int16(m.paramTypes.length);
  for (const t of m.paramTypes) w.int32(t | 0);
  return w.end().flush();
}

export interface BindHead {
  readonly portal: string;
  readonly statement: string;
  /** Everything after the statement name (formats, values, result formats), passed through untouched. */
  readonly rest: Uint8Array;
}

export function readBind(body: Uint8Array): BindHead {
  const r = new MessageReader(body);
  const portal = r.cstring();
  const statement = r.cstring();
  return { portal, statement, rest: r.rest() };
}

/** A Bind's parameter values (NULL as null) and their format codes, one per value (0 text, 1 binary). */
export interface BindParams {
  readonly formats: number[];
  readonly values: (Uint8Array | null)[];
  /** The result columns' format codes as sent: none (all text), one for every column, or one per column. */
  readonly results: number[];
}

/** Decodes the parameters of a Bind's `rest`, or undefined if it is malformed (PostgreSQL then reports it). */
export function readBindParams(rest: Uint8Array): BindParams | undefined {
  try {
    const r = new MessageReader(rest);
    const codes: number[] = [];
    for (let i = r.uint16(); i > 0; i--) codes.push(r.int16());
    const n = r.uint16();
    // One code applies to every parameter; none means text.
    if (codes.length > 1 && codes.length !== n) return undefined;
    const values: (Uint8Array | null)[] = [];
    for (let i = 0; i < n; i++) {
      const len = r.int32();
      values.push(len < 0 ? null : r.bytes(len));
    }
    const formats = values.map((_, i) => (codes.length === 0 ? 0 : (codes[codes.length === 1 ? 0 : i] ?? 0)));
    const results: number[] = [];
    for (let i = r.uint16(); i > 0; i--) results.push(r.int16());
    return { formats, values, results };
  } catch {
    return undefined;
  }
}

export function writeBind(m: BindHead): Uint8Array {
  return new MessageWriter(m.rest.length + 32).begin(FrontendMessage.Bind).cstring(m.portal).cstring(m.statement).bytes(m.rest).end().flush();
}

/** Describe and Close share a layout: 'S' (statement) or 'P' (portal), then a name. */
export interface TargetMessage {
  readonly target: 'S' | 'P';
  readonly name: string;
}

export function readTarget(body: Uint8Array): TargetMessage {
  const r = new MessageReader(body);
  const t = r.byte();
  if (t !== 0x53 && t !== 0x50) throw malformed(`invalid ${'DESCRIBE/CLOSE'} target ${t}`);
  return { target: t === 0x53 ? 'S' : 'P', name: r.cstring() };
}

export function writeTarget(type: number, m: TargetMessage): Uint8Array {
  return new MessageWriter().begin(type).byte(m.target.charCodeAt(0)).cstring(m.name).end().flush();
}

export function readQuery(body: Uint8Array): string {
  return new MessageReader(body).cstring();
}

export function readExecute(body: Uint8Array): { portal: string; maxRows: number } {
  const r = new MessageReader(body);
  return { portal: r.cstring(), maxRows: r.int32() };
}

export type StartupMessage =
  | { readonly kind: 'startup'; readonly major: number; readonly minor: number; readonly params: Map<string, string> }
  | { readonly kind: 'ssl' }
  | { readonly kind: 'gssenc' }
  | { readonly kind: 'cancel'; readonly processId: number; readonly secretKey: number };

/** Decodes the first message of a connection (no type byte). */
export function readStartup(body: Uint8Array): StartupMessage {
  const r = new MessageReader(body);
  const code = r.int32();
  if (code === StartupCode.SSLRequest) return { kind: 'ssl' };
  if (code === StartupCode.GSSENCRequest) return { kind: 'gssenc' };
  if (code === StartupCode.CancelRequest) return { kind: 'cancel', processId: r.int32(), secretKey: r.int32() };
  const major = code >>> 16;
  const minor = code & 0xffff;
  const params = new Map<string, string>();
  while (r.remaining > 1) {
    const key = r.cstring();
    if (key === '') break;
    params.set(key, r.cstring());
  }
  return { kind: 'startup', major, minor, params };
}

export function writeStartup(params: Record<string, string>): Uint8Array {
  const w = new MessageWriter().begin().int32(StartupCode.ProtocolVersion3);
  for (const [k, v] of Object.entries(params)) w.cstring(k).cstring(v);
  return w.byte(0).end().flush();
}

export function simpleMessage(type: number): Uint8Array {
  return new MessageWriter(5).begin(type).end().flush();
}

export function copyData(data: Uint8Array): Uint8Array {
  return new MessageWriter(data.length + 5).begin(FrontendMessage.CopyData).bytes(data).end().flush();
}

export function copyFail(message: string): Uint8Array {
  return new MessageWriter().begin(FrontendMessage.CopyFail).cstring(message).end().flush();
}
