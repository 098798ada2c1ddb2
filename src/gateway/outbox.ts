/**
 * @module gateway/outbox
 * The device's record of forwarding, one row per stream in `orbit_gateway.streams`: what the remote
 * acknowledged (the watermark and counters) and the batch in flight, committed before it is sent.
 */

export interface StreamRow {
  device: string;
  acked_seq: string;
  acked_batch: string;
  forwarded_rows: string;
  forwarded_batches: string;
  pending_batch: string | null;
  pending_first: string | null;
  pending_last: string | null;
  pending_rows: number | null;
  pending_checksum: string | null;
}

export const STATE_DDL = `CREATE SCHEMA IF NOT EXISTS orbit_gateway;
CREATE TABLE IF NOT EXISTS orbit_gateway.streams (
  stream text PRIMARY KEY,
  device text NOT NULL,
  source text NOT NULL,
  acked_seq bigint NOT NULL DEFAULT 0,
  acked_batch bigint NOT NULL DEFAULT 0,
  forwarded_rows bigint NOT NULL DEFAULT 0,
  forwarded_batches bigint NOT NULL DEFAULT 0,
  pending_batch bigint,
  pending_first bigint,
  pending_last bigint,
  pending_rows integer,
  pending_checksum text,
  updated_at timestamptz NOT NULL DEFAULT now()
)`;

export const STREAM_COLUMNS = `device, acked_seq::text, acked_batch::text, forwarded_rows::text, forwarded_batches::text,
  pending_batch::text, pending_first::text, pending_last::text, pending_rows, pending_checksum`;
