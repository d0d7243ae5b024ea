/**
 * Is the target the source itself? A migration onto its own source would "adopt" every topic it should copy
 * and then write into them, so connectivity and preflight refuse it: same cluster id, or one broker address
 * (bootstrap or advertised) that both sides share. Pure.
 */

/** What one side of the migration is known by: its cluster id and every address it answers on. */
export interface ClusterIdentity {
  clusterId: string;
  bootstrapServers: string[];
  /** Advertised brokers from the cluster's metadata. */
  brokers: { host: string; port: number }[];
}

/** Every loopback spelling is one host: localhost, 127.x.x.x, ::1. */
function normalizeHost(host: string): string {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1') return 'loopback';
  return h;
}

/** "host:port" (IPv6 in brackets or not) → a normalised address key. */
export function addressKey(host: string, port: number | string): string {
  return `${normalizeHost(host)}:${Number(port)}`;
}

function splitHostPort(hp: string): { host: string; port: string } {
  const at = hp.lastIndexOf(':');
  return { host: hp.slice(0, at), port: hp.slice(at + 1) };
}

/** The addresses of one side, each with how it was given (for the message). */
function addresses(c: ClusterIdentity): Map<string, string> {
  const out = new Map<string, string>();
  for (const hp of c.bootstrapServers) {
    const { host, port } = splitHostPort(hp);
    out.set(addressKey(host, port), `bootstrap ${hp}`);
  }
  for (const b of c.brokers) {
    const key = addressKey(b.host, b.port);
    if (!out.has(key)) out.set(key, `advertised broker ${b.host}:${b.port}`);
  }
  return out;
}

/**
 * Why the target is the source, or undefined when they are two clusters. The message names both bootstrap
 * lists and the cluster id (or the shared addresses), and what to change.
 */
export function sameClusterFault(source: ClusterIdentity, target: ClusterIdentity): string | undefined {
  const lists = `source.bootstrapServers ${source.bootstrapServers.join(',')}, target.bootstrapServers ${target.bootstrapServers.join(',')}`;
  const fix = 'point target.bootstrapServers at the AutoMQ (or other) cluster the data should move to';
  if (source.clusterId && source.clusterId === target.clusterId) {
    return `the target is the source cluster: both answer with cluster id ${source.clusterId} (${lists}); expected two different clusters: ${fix}`;
  }
  const sourceAddresses = addresses(source);
  const shared = [...addresses(target)].filter(([key]) => sourceAddresses.has(key)).map(([key, how]) => `${how} (source: ${sourceAddresses.get(key)})`);
  if (shared.length) {
    return `the target shares broker addresses with the source: ${shared.join(', ')} (${lists}; cluster ids ${source.clusterId} and ${target.clusterId}); expected two clusters on distinct addresses: ${fix}`;
  }
  return undefined;
}
