// The Host check of FAIRSPEC_ALLOWED_HOSTS, a defence against DNS rebinding: a web page on
// another site can make a browser send requests to a server bound to 127.0.0.1 by pointing its
// own name at that address, but the browser still sends the page's name in Host. An entry is a
// host (any port) or host:port; names compare without case and without a trailing dot.

/** Whether `host` (the Host header) is allowed by `allowed` (config.allowedHosts); empty allows all. */
export function hostAllowed(host: string | undefined, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  if (host === undefined) return false;
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host.trim().toLowerCase());
  if (!match) return false;
  const name = match[1]!.replace(/\.$/, '');
  const port = match[2];
  return allowed.some((entry) => entry === name || (port !== undefined && entry === `${name}:${port}`));
}
