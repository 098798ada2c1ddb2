/**
 * @module session/idle-timer
 * The idle-in-transaction clock of a session that holds the backend: one timer per idle period, not
 * per message (COPY sends a message per row), and time spent running a statement is not idleness.
 */
export interface IdleWatch {
  /** Whether the session still holds the backend (only then can it be idle in a transaction). */
  holding(): boolean;
  /** Whether a statement of the session is running now. */
  running(): boolean;
  /** Called once the session has been idle for the whole timeout. */
  expired(): void;
}

export class IdleTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastActivity = 0;
  private stopped = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly watch: IdleWatch,
  ) {}

  /** Work for the session just happened (a message arrived, or the work it caused ended). */
  touch(): void {
    this.lastActivity = Date.now();
  }

  /** Starts counting if the session holds the backend and no timer is counting yet. */
  arm(): void {
    if (this.stopped || this.timeoutMs <= 0 || this.timer || !this.watch.holding()) return;
    this.schedule(this.timeoutMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.check(), ms);
    this.timer.unref?.();
  }

  private check(): void {
    this.timer = undefined;
    if (this.stopped || !this.watch.holding()) return;
    const idleFor = this.watch.running() ? 0 : Date.now() - this.lastActivity;
    if (idleFor >= this.timeoutMs) this.watch.expired();
    else this.schedule(this.timeoutMs - idleFor);
  }
}
