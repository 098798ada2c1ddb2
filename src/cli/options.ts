/**
 * @module cli/options
 * Parsing of command-line addresses and plain-language startup errors (no stack traces).
 */
export function parseAddress(value: string, flag: string): { host: string; port: number } | null {
  if (value === 'off') return null;
  const i = value.lastIndexOf(':');
  const host = i < 0 ? '127.0.0.1' : value.slice(0, i).replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = Number(i < 0 ? value : value.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${flag} takes ADDR:PORT, got "${value}"`);
  return { host, port };
}

export function formatStartupError(err: unknown, ctx: { dataDir?: string; listen?: { host: string; port: number } | null; http?: { host: string; port: number } | null }): string {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  switch (e?.code) {
    case 'EADDRINUSE':
      return `cannot listen on ${e.address ?? '?'}:${e.port ?? '?'}: the address is already in use (is another server running? choose another port with --listen/--http)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${e.address ?? '?'}:${e.port ?? '?'}: the address is not available on this machine`;
    case 'EACCES':
    case 'EPERM':
      if (e.syscall === 'listen' || e.syscall === 'bind') return `cannot listen on ${e.address ?? '?'}:${e.port ?? '?'}: permission denied`;
      return `cannot use data directory ${ctx.dataDir}: permission denied (${e.path ?? ''})`;
    case 'ENOTDIR':
    case 'EEXIST':
      return `cannot use data directory ${ctx.dataDir}: a path component is not a directory (${e.path ?? ''})`;
    case 'EROFS':
      return `cannot use data directory ${ctx.dataDir}: the file system is read-only`;
    case 'ENOSPC':
      return `cannot use data directory ${ctx.dataDir}: no space left on device`;
  }
  return err instanceof Error ? err.message : String(err);
}
