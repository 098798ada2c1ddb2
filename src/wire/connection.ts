/**
 * @module wire/connection
 * One client connection, independent of its transport (TCP socket, WebSocket, in-page channel):
 * startup and SSL negotiation, authentication, then every message handed to the client's Session in
 * order. Cancel requests are routed through the ConnectionRegistry.
 */
import { OrbitError, orbitError, toOrbitError } from '../errors.js';
import { Session, type SessionOptions } from '../session/session.js';
import type { Backend } from '../session/backend.js';
import { SqlState } from '../sqlstate.js';
import { createAuthFlow, type AuthFlow, type AuthMethod, type SecretLookup } from './auth/index.js';
import { authentication, backendKeyData, errorResponse, parameterStatus, readyForQuery } from './protocol/backend.js';
import { readStartup } from './protocol/frontend.js';
import { BackendMessage, FrontendMessage, TransactionStatus } from './protocol/message-codes.js';
import { MessageFramer, type Message } from './protocol/reader.js';
import { MessageWriter } from './protocol/writer.js';

/** What a connection needs from its transport. */
export interface Transport {
  write(bytes: Uint8Array): void;
  close(): void;
  /** Stops/resumes reading (backpressure while a large batch waits for the backend). */
  pause?(): void;
  resume?(): void;
  /** True for clients on this machine (127.0.0.0/8, ::1, in-page channels). */
  readonly loopback: boolean;
}

export interface AuthConfig {
  /** Method for loopback clients (default trust) and for everyone else (default scram-sha-256). */
  readonly loopback: AuthMethod;
  readonly remote: AuthMethod;
  readonly lookup: SecretLookup;
}

export interface ConnectionContext {
  readonly backend: Backend;
  readonly auth: AuthConfig;
  readonly session: SessionOptions;
  readonly registry: ConnectionRegistry;
  /** The database name clients may connect to (PGlite has one). */
  readonly database: string;
}

/** Sessions by BackendKeyData secret (all share the backend's process id), for CancelRequest. */
export class ConnectionRegistry {
  private readonly sessions = new Map<number, Session>();
  add(s: Session): void {
    // Secret keys are random 32-bit values; a repeat among live sessions would make cancels ambiguous.
    if (this.sessions.has(s.secretKey)) throw new OrbitError(SqlState.too_many_connections, 'could not assign a unique cancel key', { severity: 'FATAL' });
    this.sessions.set(s.secretKey, s);
  }
  remove(s: Session): void {
    if (this.sessions.get(s.secretKey) === s) this.sessions.delete(s.secretKey);
  }
  cancel(processId: number, secretKey: number): void {
    const s = this.sessions.get(secretKey);
    if (s && s.processId === processId) s.cancel();
  }
  get size(): number {
    return this.sessions.size;
  }
  all(): Session[] {
    return [...this.sessions.values()];
  }
}

const Phase = { startup: 0, auth: 1, ready: 2, closed: 3 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/** Unread bytes above which the transport is paused. */
const HIGH_WATER = 8 << 20;
/** Startup packets are small; PostgreSQL caps them at 10000 bytes. */
const MAX_STARTUP_LENGTH = 10_000;

export class Connection {
  // A client's large CopyData messages reach the COPY in the parts the socket delivered (no copy).
  private readonly framer = new MessageFramer({ splitCopyData: true });
  private phase: Phase = Phase.startup;
  private session: Session | undefined;
  private auth: AuthFlow | undefined;
  private startupSettings = new Map<string, string>();
  /** The StartupMessage's user: the role the session runs as once authenticated. */
  private user = '';
  private pumping = false;
  private paused = false;

  private resolvedCtx: ConnectionContext | undefined;
  private readonly ctxReady: Promise<ConnectionContext>;

  /** `ctx` may still be opening (the server listens before the database is ready); input waits for it. */
  constructor(
    ctx: ConnectionContext | Promise<ConnectionContext>,
    private readonly transport: Transport,
  ) {
    this.ctxReady = Promise.resolve(ctx);
  }

  /** Set before the first message is handled (see pump). */
  private get ctx(): ConnectionContext {
    return this.resolvedCtx!;
  }

  /** Bytes from the client. */
  receive(chunk: Uint8Array): void {
    if (this.phase === Phase.closed) return;
    this.framer.push(chunk);
    if (!this.paused && this.framer.buffered > HIGH_WATER && this.transport.pause) {
      this.paused = true;
      this.transport.pause();
    }
    void this.pump();
  }

  /** The transport closed (client went away or the server is stopping). */
  async closed(): Promise<void> {
    if (this.phase === Phase.closed) return;
    this.phase = Phase.closed;
    const s = this.session;
    this.session = undefined;
    if (s) {
      this.resolvedCtx?.registry.remove(s);
      await s.close();
    }
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      this.resolvedCtx ??= await this.ctxReady;
      for (;;) {
        if (this.phase === Phase.closed) return;
        let msg: Message | undefined;
        try {
          if (this.phase === Phase.ready || this.phase === Phase.auth) checkMessageType(this.framer.peekType());
          msg = this.framer.next(this.phase !== Phase.startup);
          if (msg && this.phase === Phase.startup && msg.raw.length > MAX_STARTUP_LENGTH) throw orbitError('protocol_violation', 'invalid length of startup packet', { severity: 'FATAL' });
        } catch (err) {
          this.fatal(toOrbitError(err));
          return;
        }
        if (!msg) break;
        await this.dispatch(msg);
      }
      // Every complete message is handled: what is left is the start of one still arriving (maybe
      // larger than HIGH_WATER, e.g. one big CopyData), which needs more bytes whatever its size.
      if (this.paused) {
        this.paused = false;
        this.transport.resume?.();
      }
    } finally {
      this.pumping = false;
    }
  }

  private async dispatch(msg: Message): Promise<void> {
    try {
      if (this.phase === Phase.startup) return await this.startup(msg);
      if (this.phase === Phase.auth) return await this.authenticate(msg);
      if (msg.type === FrontendMessage.Terminate) {
        await this.closed();
        this.transport.close();
        return;
      }
      await this.session!.handle(msg);
    } catch (err) {
      const e = toOrbitError(err);
      this.fatal(e.severity === 'FATAL' ? e : new OrbitError(e.code, e.message, { severity: 'FATAL', detail: e.detail, hint: e.hint }));
    }
  }

  private async startup(msg: Message): Promise<void> {
    const m = readStartup(msg.body);
    switch (m.kind) {
      case 'ssl':
      case 'gssenc':
        // No TLS or GSSAPI here: 'N' tells the client to go on in plain text (or give up, per sslmode).
        this.transport.write(new Uint8Array([0x4e]));
        return;
      case 'cancel':
        this.ctx.registry.cancel(m.processId, m.secretKey);
        this.phase = Phase.closed;
        this.transport.close();
        return;
    }
    if (m.major !== 3) {
      throw orbitError('feature_not_supported', `unsupported frontend protocol ${m.major}.${m.minor}: server supports 3.0 to 3.0`, { severity: 'FATAL' });
    }
    const unknownOptions = [...m.params.keys()].filter((k) => k.startsWith('_pq_.'));
    if (m.minor > 0 || unknownOptions.length > 0) this.transport.write(negotiateProtocolVersion(unknownOptions));
    const user = m.params.get('user');
    if (!user) throw orbitError('invalid_authorization_specification', 'no PostgreSQL user name specified in startup packet', { severity: 'FATAL' });
    const database = m.params.get('database') ?? user;
    if (database !== this.ctx.database) {
      throw new OrbitError('3D000', `database "${database}" does not exist`, { severity: 'FATAL' });
    }
    if (m.params.get('replication') && !['false', 'off', '0', 'no'].includes(m.params.get('replication')!.toLowerCase())) {
      throw orbitError('feature_not_supported', 'replication connections are not supported by Orbit', { severity: 'FATAL' });
    }
    this.startupSettings = startupSettings(m.params);
    this.user = user;
    const method = this.transport.loopback ? this.ctx.auth.loopback : this.ctx.auth.remote;
    this.auth = createAuthFlow(method, user, this.ctx.auth.lookup);
    if (!this.auth) return this.ready();
    this.phase = Phase.auth;
    this.transport.write(await this.auth.start());
  }

  private async authenticate(msg: Message): Promise<void> {
    if (msg.type !== FrontendMessage.PasswordMessage) {
      throw orbitError('protocol_violation', `expected password response, got message type ${msg.type}`, { severity: 'FATAL' });
    }
    const step = await this.auth!.next(msg.body);
    if (step.send) this.transport.write(step.send);
    if (step.done) await this.ready();
  }

  private async ready(): Promise<void> {
    const session = new Session(this.ctx.backend, { write: (b) => this.write(b), terminate: () => this.terminate() }, this.ctx.session);
    let reported: Map<string, string>;
    try {
      reported = await session.start(this.startupSettings, this.user);
    } catch (err) {
      await session.close();
      const e = toOrbitError(err);
      throw new OrbitError(e.code, e.message, { severity: 'FATAL', detail: e.detail, hint: e.hint });
    }
    this.session = session;
    this.ctx.registry.add(session);
    this.phase = Phase.ready;
    this.transport.write(authentication(0));
    for (const [name, value] of reported) this.transport.write(parameterStatus(name, value));
    this.transport.write(backendKeyData(session.processId, session.secretKey));
    this.transport.write(readyForQuery(TransactionStatus.Idle));
  }

  private write(bytes: Uint8Array): void {
    if (this.phase !== Phase.closed) this.transport.write(bytes);
  }

  private terminate(): void {
    void this.closed();
    this.transport.close();
  }

  private fatal(err: OrbitError): void {
    if (this.phase === Phase.closed) return;
    const fatal = err.severity === 'FATAL' ? err : new OrbitError(err.code, err.message, { severity: 'FATAL', detail: err.detail, hint: err.hint });
    this.transport.write(errorResponse(fatal));
    this.terminate();
  }
}

const FRONTEND_TYPES = new Set<number>(Object.values(FrontendMessage));

/** PostgreSQL looks at the type byte before the length: garbage fails at once, not after 1 GB. */
function checkMessageType(type: number | undefined): void {
  if (type !== undefined && !FRONTEND_TYPES.has(type)) {
    throw orbitError('protocol_violation', `invalid frontend message type ${type}`, { severity: 'FATAL' });
  }
}

/** Startup parameters that are settings (everything but user, database, replication), `options` expanded. */
export function startupSettings(params: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of params) {
    if (k === 'user' || k === 'database' || k === 'replication' || k.startsWith('_pq_.')) continue;
    if (k === 'options') {
      for (const [name, value] of parseOptions(v)) out.set(name, value);
      continue;
    }
    out.set(k, v);
  }
  return out;
}

/** The `options` startup parameter: `-c name=value` and `--name=value`, space-separated, backslash escapes. */
function parseOptions(options: string): Array<[string, string]> {
  const words: string[] = [];
  let cur = '';
  let escaped = false;
  for (const ch of options) {
    if (escaped) {
      cur += ch;
      escaped = false;
    } else if (ch === '\\') {
      escaped = true;
    } else if (/\s/.test(ch)) {
      if (cur) words.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur) words.push(cur);
  const out: Array<[string, string]> = [];
  for (let i = 0; i < words.length; i++) {
    let w = words[i]!;
    if (w === '-c' && i + 1 < words.length) w = words[++i]!;
    else if (w.startsWith('-c')) w = w.slice(2);
    else if (w.startsWith('--')) w = w.slice(2);
    else throw orbitError('invalid_parameter_value', `invalid command-line argument for server process: ${w}`, { severity: 'FATAL' });
    const eq = w.indexOf('=');
    if (eq <= 0) throw orbitError('syntax_error', `-c ${w} requires a value`, { severity: 'FATAL' });
    out.push([w.slice(0, eq).replace(/-/g, '_'), w.slice(eq + 1)]);
  }
  return out;
}

function negotiateProtocolVersion(unknownOptions: string[]): Uint8Array {
  const w = new MessageWriter().begin(BackendMessage.NegotiateProtocolVersion).int32(0).int32(unknownOptions.length);
  for (const o of unknownOptions) w.cstring(o);
  return w.end().flush();
}
