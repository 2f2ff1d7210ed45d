// The run's log: `log.info('...')`, and `console` while a workflow runs (QuickJS components
// have no console of their own).

import { log as write } from 'mageflow:workflow/runtime@0.1.0';

/** @param {unknown[]} parts */
function text(parts) {
  return parts
    .map((p) => (typeof p === 'string' ? p : p instanceof Error ? `${p.name}: ${p.message}` : json(p)))
    .join(' ');
}

/** @param {unknown} v */
function json(v) {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** @param {'trace' | 'debug' | 'info' | 'warn' | 'error'} level */
const at = (level) => (/** @type {unknown[]} */ ...parts) => write(level, text(parts));

export const log = {
  trace: at('trace'),
  debug: at('debug'),
  info: at('info'),
  warn: at('warn'),
  error: at('error'),
};

/** `console` as the run's log: log and info at info, debug, warn and error at theirs. */
export const runConsole = {
  log: log.info,
  info: log.info,
  debug: log.debug,
  trace: log.trace,
  warn: log.warn,
  error: log.error,
};
