// The --url option of the bench scripts: an http(s) URL of a server on this machine. They only
// ever measure or load the local server (timings over a network measure the network, and a load
// generator aimed at someone else's server is a denial of service).

import { UsageError } from './usage-error.js';

const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/** Parses --url; throws UsageError unless it is an http(s) URL of localhost, 127.x or [::1]. */
export function parseLoopbackUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url is not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be http(s), got ${url.protocol}`);
  if (!isLoopback(url.hostname)) throw new UsageError(`--url must point at this machine (localhost, 127.x, [::1]), got ${url.hostname}`);
  return url;
}
