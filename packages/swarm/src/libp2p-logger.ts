import { enabled, logger } from '@libp2p/logger'
import type { ComponentLogger, Logger } from '@libp2p/interface'

const nothing = (): void => {}

/**
 * libp2p's component loggers, made only where `DEBUG` could print them.
 * libp2p makes a logger for every stream it opens or accepts, and for each
 * protocol it negotiates on it, each three `debug` instances that look up
 * whether the terminal has colours; in a profiled 30-node cold start that
 * was over 1% of the daemons' CPU, for logs nobody had asked for. A scope
 * that `DEBUG` does not enable gets a logger that does nothing, whose own
 * scopes are checked again.
 */
export function libp2pLogger (): ComponentLogger {
  return { forComponent: quiet }
}

function quiet (name: string): Logger {
  if (enabled(name) || enabled(`${name}:error`) || enabled(`${name}:trace`)) return logger(name)
  return Object.assign(nothing.bind(null), { enabled: false, error: nothing, trace: nothing, newScope: (scope: string) => quiet(`${name}:${scope}`) })
}
