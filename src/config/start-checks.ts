/**
 * Checks made at start that need more than the environment: the TLS files' contents and the
 * listening host's addresses. Each failure is a ConfigError naming the setting (and the file),
 * so the operator reads what to change rather than a library's words ("no start line") or a
 * rule that does not apply (an unresolvable host reported as the plain-HTTP cookie rule).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { lookup } from 'node:dns/promises'
import { readFileSync } from 'node:fs'
import { createSecureContext } from 'node:tls'
import { ConfigError, type Config } from './load.ts'
import { checkCookieTransport, checkMetricsExposure, isHostName, isLoopbackHost } from './hardening.ts'

/** The PEM texts of TESSERA_TLS_CERT and TESSERA_TLS_KEY, checked to be a certificate and its key. */
export function readTlsMaterial(files: NonNullable<Config['server']['tls']>): { cert: string; key: string } {
  const cert = readFileSync(files.certFile, 'utf8')
  const key = readFileSync(files.keyFile, 'utf8')
  const problems: string[] = []
  try {
    new X509Certificate(cert)
  } catch {
    problems.push(`TESSERA_TLS_CERT: ${files.certFile} does not hold a PEM certificate ("-----BEGIN CERTIFICATE-----")`)
  }
  try {
    createPrivateKey(key)
  } catch {
    problems.push(`TESSERA_TLS_KEY: ${files.keyFile} does not hold an unencrypted PEM private key`)
  }
  if (problems.length === 0) {
    try {
      createSecureContext({ cert, key })
    } catch {
      problems.push(`TESSERA_TLS_KEY: ${files.keyFile} is not the private key of the certificate in ${files.certFile}`)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return { cert, key }
}

/**
 * Resolves TESSERA_HOST when it is a name, and applies the plain-HTTP cookie rule and the metrics
 * token rule to what it resolves to (loadConfig applies them to addresses and `localhost` already).
 */
export async function checkListenHost(config: Config): Promise<void> {
  const { host } = config.server
  if (!isHostName(host)) return
  let addresses: Array<{ address: string }>
  try {
    addresses = await lookup(host, { all: true })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'lookup failed'
    throw new ConfigError([
      `TESSERA_HOST: "${host}" does not resolve on this machine (${code}); give an address such as 127.0.0.1 or 0.0.0.0, or a name this machine resolves`,
    ])
  }
  if (addresses.length > 0 && addresses.every(({ address }) => isLoopbackHost(address))) return
  const problems: string[] = []
  checkCookieTransport(
    {
      host,
      publicUrl: config.tokens.issuer,
      tls: config.server.tls,
      allowInsecureCookies: config.server.allowInsecureCookies,
    },
    problems,
  )
  checkMetricsExposure({ host, metricsToken: config.metrics.token }, problems)
  if (problems.length > 0) throw new ConfigError(problems)
}
