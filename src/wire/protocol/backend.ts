/**
 * @module wire/protocol/backend
 * Backend messages Orbit writes itself, and a scanner over the backend byte stream PGlite returns.
 */
import type { OrbitError } from '../../errors.js';
import { BackendMessage, ErrorField, type TransactionStatus } from './message-codes.js';
import { MessageReader } from './reader.js';
import { MessageWriter } from './writer.js';

/** ErrorResponse or NoticeResponse from an OrbitError (protocol section "Error and Notice Message Fields"). */
export function errorResponse(err: OrbitError, type: number = BackendMessage.ErrorResponse): Uint8Array {
  const w = new MessageWriter().begin(type);
  const field = (code: number, value: string | number | undefined) => {
    if (value !== undefined && value !== '') w.byte(code).cstring(String(value));
  };
  field(ErrorField.Severity, err.severity);
  field(ErrorField.SeverityV, err.severity);
  field(ErrorField.Code, err.code);
  field(ErrorField.Message, err.message);
  field(ErrorField.Detail, err.detail);
  field(ErrorField.Hint, err.hint);
  field(ErrorField.Position, err.position);
  field(ErrorField.Where, err.where);
  field(ErrorField.Schema, err.schema);
  field(ErrorField.Table, err.table);
  field(ErrorField.Column, err.column);
  field(ErrorField.DataType, err.dataType);
  field(ErrorField.Constraint, err.constraint);
  return w.byte(0).end().flush();
}

export function parameterStatus(name: string, value: string): Uint8Array {
  return new MessageWriter().begin(BackendMessage.ParameterStatus).cstring(name).cstring(value).end().flush();
}

export function readyForQuery(status: TransactionStatus): Uint8Array {
  return new MessageWriter(6).begin(BackendMessage.ReadyForQuery).byte(status).end().flush();
}

export function commandComplete(tag: string): Uint8Array {
  return new MessageWriter().begin(BackendMessage.CommandComplete).cstring(tag).end().flush();
}

export function backendKeyData(processId: number, secretKey: number): Uint8Array {
  return new MessageWriter(13).begin(BackendMessage.BackendKeyData).int32(processId).int32(secretKey).end().flush();
}

export function notificationResponse(processId: number, channel: string, payload: string): Uint8Array {
  return new MessageWriter().begin(BackendMessage.NotificationResponse).int32(processId).cstring(channel).cstring(payload).end().flush();
}

/** AuthenticationOk (0), CleartextPassword (3), SASL (10), SASLContinue (11), SASLFinal (12). */
export function authentication(code: number, data?: Uint8Array | string[]): Uint8Array {
  const w = new MessageWriter().begin(BackendMessage.Authentication).int32(code);
  if (Array.isArray(data)) {
    for (const mech of data) w.cstring(mech);
    w.byte(0);
  } else if (data) {
    w.bytes(data);
  }
  return w.end().flush();
}

export function emptyMessage(type: number): Uint8Array {
  return new MessageWriter(5).begin(type).end().flush();
}

/** One backend message inside a byte stream: type, and the offsets of its whole frame. */
export interface BackendFrame {
  readonly type: number;
  readonly start: number;
  readonly end: number;
}

/**
 * Lists the messages of a complete backend byte stream (as returned by PGlite's execProtocolRaw);
 * with `types`, only those of these types, the others stepped over without allocating (a result of
 * 40 K DataRows is scanned for its few notices and errors).
 */
export function scanBackend(data: Uint8Array, types?: readonly number[]): BackendFrame[] {
  const frames: BackendFrame[] = [];
  const n = data.length;
  let pos = 0;
  while (pos + 5 <= n) {
    const len = ((data[pos + 1]! << 24) | (data[pos + 2]! << 16) | (data[pos + 3]! << 8) | data[pos + 4]!) >>> 0;
    const end = pos + 1 + len;
    if (len < 4 || end > n) break;
    const type = data[pos]!;
    if (types === undefined || types.includes(type)) frames.push({ type, start: pos, end });
    pos = end;
  }
  return frames;
}

/** The transaction status of the last ReadyForQuery in a backend stream, if it has one. */
export function lastReadyStatus(data: Uint8Array): TransactionStatus | undefined {
  // ReadyForQuery is always 6 bytes: 'Z', int32 5, status.
  const n = data.length;
  if (n >= 6 && data[n - 6] === BackendMessage.ReadyForQuery && data[n - 2] === 5 && data[n - 3] === 0) {
    return data[n - 1] as TransactionStatus;
  }
  return undefined;
}

export interface ErrorFields {
  [field: string]: string;
}

/** Decodes the fields of an ErrorResponse/NoticeResponse body, keyed by field letter. */
export function readErrorFields(body: Uint8Array): ErrorFields {
  const r = new MessageReader(body);
  const fields: ErrorFields = {};
  while (r.remaining > 0) {
    const code = r.byte();
    if (code === 0) break;
    fields[String.fromCharCode(code)] = r.cstring();
  }
  return fields;
}

/** An ErrorResponse/NoticeResponse frame with one field's value changed, the others kept in order. */
export function rewriteErrorField(frame: Uint8Array, field: string, change: (value: string) => string): Uint8Array {
  const r = new MessageReader(frame.subarray(5));
  const w = new MessageWriter(frame.length + 16).begin(frame[0]);
  while (r.remaining > 0) {
    const code = r.byte();
    if (code === 0) break;
    const value = r.cstring();
    w.byte(code).cstring(String.fromCharCode(code) === field ? change(value) : value);
  }
  return w.byte(0).end().flush();
}

/** Decodes the text columns of a DataRow body (NULL as null). */
export function readDataRow(body: Uint8Array): Array<string | null> {
  const r = new MessageReader(body);
  const n = r.int16();
  const out: Array<string | null> = [];
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  for (let i = 0; i < n; i++) {
    const len = r.int32();
    out.push(len < 0 ? null : decoder.decode(r.bytes(len)));
  }
  return out;
}
