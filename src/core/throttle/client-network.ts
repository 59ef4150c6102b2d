/**
 * The network a client address is counted under. An IPv4 address is its own network; IPv6 is
 * counted per /64, the smallest block a provider hands to one customer, because anyone holding a
 * /64 can pick a fresh address per request and would otherwise walk into a fresh bucket each time.
 */

const ipv4Pattern = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const hextetPattern = /^[0-9a-f]{1,4}$/

/** The eight hextets of an IPv6 address (an embedded IPv4 tail becomes two), or null. */
function expandIpv6(address: string): string[] | null {
  let text = address.toLowerCase().replace(/%.*$/, '')
  const ipv4Tail = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (ipv4Tail?.[1]) {
    if (!ipv4Pattern.test(ipv4Tail[1])) return null
    const [a = 0, b = 0, c = 0, d = 0] = ipv4Tail[1].split('.').map(Number)
    text = `${text.slice(0, -ipv4Tail[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const halves = text.split('::')
  if (halves.length > 2) return null
  const head = halves[0] === '' ? [] : (halves[0] ?? '').split(':')
  const tail = halves.length === 2 && halves[1] !== '' ? (halves[1] ?? '').split(':') : []
  const missing = 8 - head.length - tail.length
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null
  const hextets = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail]
  if (!hextets.every((hextet) => hextetPattern.test(hextet))) return null
  return hextets.map((hextet) => hextet.replace(/^0+(?=.)/, ''))
}

/**
 * The throttling network of a client address: `198.51.100.7` for IPv4 (IPv4-mapped IPv6
 * included), `2001:db8:1:2::/64` for IPv6. Anything unreadable is kept as is, bounded in length.
 */
export function describeClientNetwork(address: string): string {
  if (ipv4Pattern.test(address)) return address
  const hextets = expandIpv6(address)
  if (!hextets) return `raw:${address.slice(0, 64)}`
  const isIpv4Mapped = hextets.slice(0, 5).every((hextet) => hextet === '0') && hextets[5] === 'ffff'
  if (isIpv4Mapped) {
    const high = Number.parseInt(hextets[6] ?? '0', 16)
    const low = Number.parseInt(hextets[7] ?? '0', 16)
    return [high >> 8, high & 255, low >> 8, low & 255].join('.')
  }
  return `${hextets.slice(0, 4).join(':')}::/64`
}
