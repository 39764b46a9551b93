import ipaddr from 'ipaddr.js';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/**
 * Which addresses Switchyard may send webhooks to. Only public unicast addresses are allowed by
 * default: loopback, private, carrier-grade NAT, link-local (with cloud metadata 169.254.169.254),
 * unique-local (fd00:ec2::254), multicast, reserved, documentation, NAT64/6to4/Teredo forms that
 * embed an IPv4 address, and IPv4-mapped IPv6 (::ffff:127.0.0.1) are refused unless the operator
 * opens a range with SWITCHYARD_WEBHOOK_ALLOW.
 */
export interface AddressPolicy {
  /** Why the address is refused, or undefined when it may be connected to. */
  refusal(address: string): string | undefined;
  readonly allowed: readonly string[];
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

const globalUnicast = ipaddr.parseCIDR('2000::/3') as [ipaddr.IPv6, number];

/** Parses `SWITCHYARD_WEBHOOK_ALLOW` (comma-separated CIDR ranges; a bare address means just it). */
export function parseAllowList(text: string | undefined): Cidr[] {
  if (!text || !text.trim()) return [];
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    try {
      if (s.includes('/')) return ipaddr.parseCIDR(s) as Cidr;
      const a = ipaddr.parse(s);
      return [a, a.kind() === 'ipv4' ? 32 : 128] as Cidr;
    } catch {
      throw new Error(`SWITCHYARD_WEBHOOK_ALLOW: ${JSON.stringify(s)} is not an IP address or CIDR range`);
    }
  });
}

export function createAddressPolicy(allowText: string | undefined): AddressPolicy {
  const allow = parseAllowList(allowText);
  return {
    allowed: allow.map(([a, bits]) => `${a.toString()}/${bits}`),
    refusal(address) {
      let parsed: ipaddr.IPv4 | ipaddr.IPv6;
      try {
        // process() turns IPv4-mapped IPv6 into the IPv4 address it carries, so ::ffff:10.0.0.1 is 10.0.0.1.
        parsed = ipaddr.process(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
      } catch {
        return `${address} is not an IP address`;
      }
      for (const [range, bits] of allow) {
        if (range.kind() === parsed.kind() && parsed.match(range as never, bits)) return undefined;
      }
      const kind = parsed.range();
      if (kind !== 'unicast') return `${parsed.toString()} is a ${kind} address`;
      // ipaddr.js counts everything it has no name for as unicast, including the deprecated
      // IPv4-compatible ::/96 (::7f00:1 is 127.0.0.1): IPv6 must be global unicast, 2000::/3.
      if (parsed.kind() === 'ipv6' && !parsed.match(globalUnicast)) return `${parsed.toString()} is not a global unicast address`;
      return undefined;
    },
  };
}

/**
 * Checks an endpoint URL when it is registered: an absolute http(s) URL without credentials whose
 * host (an IP literal, or every address the name resolves to now) passes the policy. The same check
 * runs again at connect time, so a later DNS change cannot open a refused address.
 */
export async function checkEndpointUrl(text: string, policy: AddressPolicy, options: { allowHttp: boolean }): Promise<{ refused: boolean; message: string } | undefined> {
  const invalid = (message: string) => ({ refused: false, message });
  let url: URL;
  try { url = new URL(text); } catch { return invalid('url must be an absolute URL'); }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return invalid('url must use https');
  if (url.protocol === 'http:' && !options.allowHttp) return invalid('url must use https (http is accepted for test-mode merchants only)');
  if (url.username || url.password) return invalid('url must not carry credentials');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: { address: string }[];
  if (isIP(host)) addresses = [{ address: host }];
  else {
    try { addresses = await lookup(host, { all: true }); } catch { return invalid(`url host ${host} does not resolve`); }
  }
  for (const a of addresses) {
    const refused = policy.refusal(a.address);
    // The operator's remedy, named: a developer's receiver on this machine is the usual case.
    const hint = '; to allow it, open its range with SWITCHYARD_WEBHOOK_ALLOW (e.g. SWITCHYARD_WEBHOOK_ALLOW=127.0.0.0/8,::1/128 for receivers on this machine), set where the gateway and the CLI run';
    if (refused) return { refused: true, message: (isIP(host) ? `refused: ${refused}` : `refused: ${host} resolves to a refused address (${refused})`) + hint };
  }
  return undefined;
}
