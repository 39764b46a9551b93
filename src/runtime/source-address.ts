/**
 * The source a request is counted against (a sign-in, an anonymous return): the IPv4 address, or
 * the /64 network of an IPv6 one (a single host commonly holds a whole /64, so counting addresses
 * would count nothing).
 *
 * @example sourceOf('2001:db8::1') === '2001:db8:0:0::/64'; sourceOf('::ffff:192.0.2.7') === '192.0.2.7'
 */
export function sourceOf(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(':')) return ip;
  const address = ip.split('%')[0]!.toLowerCase();
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
