/**
 * Graceful stop on SIGTERM and SIGINT, within a bounded time. Process managers (systemd, Docker,
 * Kubernetes, npm) send SIGTERM and wait a while before SIGKILL; a terminal's Ctrl-C sends SIGINT
 * to the whole foreground process group, and npm forwards it once more to its child, so a
 * second signal during the stop is expected and ignored: the deadline, armed by the first
 * signal, ends a stop that does not finish (a start still waiting for a backend included).
 */

const stopSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

export interface StopSignals {
  /** Resolves with the first stop signal received. */
  signal: Promise<NodeJS.Signals>
  /** Removes the listeners and the deadline. */
  dispose(): void
}

export function listenForStopSignals(options: {
  deadlineSeconds: number
  /** One line per event, for the operator. */
  report(line: string): void
  /** Runs when the stop has not finished `deadlineSeconds` after the first signal. */
  onDeadline(): void
}): StopSignals {
  let received: NodeJS.Signals | null = null
  let deadline: NodeJS.Timeout | null = null
  let resolveSignal: (signal: NodeJS.Signals) => void = () => {}
  const signal = new Promise<NodeJS.Signals>((resolve) => (resolveSignal = resolve))
  const onSignal = (name: NodeJS.Signals) => {
    if (received !== null) {
      options.report(`Received ${name} again; still stopping (at most ${options.deadlineSeconds} s in all).`)
      return
    }
    received = name
    options.report(`Received ${name}; stopping: requests in progress finish, new ones are refused.`)
    deadline = setTimeout(() => {
      options.report(`The stop did not finish within ${options.deadlineSeconds} s (TESSERA_SHUTDOWN_TIMEOUT); exiting.`)
      options.onDeadline()
    }, options.deadlineSeconds * 1000)
    // Whatever still runs keeps the process alive until the deadline; nothing else should.
    deadline.unref()
    resolveSignal(name)
  }
  for (const name of stopSignals) process.on(name, onSignal)
  return {
    signal,
    dispose() {
      for (const name of stopSignals) process.off(name, onSignal)
      if (deadline !== null) clearTimeout(deadline)
    },
  }
}
