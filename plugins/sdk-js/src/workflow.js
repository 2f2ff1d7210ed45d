// The run wrapper: `export const run = workflow(main)`, where an uncaught exception fails the
// run with its kind and message first and its stack after (instead of a bare message), and
// `console` writes to the run's log.

import { MagentoError, magentoError } from './errors.js';
import { runConsole } from './log.js';

/**
 * A run's outcome: a one-line summary, and any JSON value as its output.
 * @param {string} summary
 * @param {unknown} [output]
 */
export function outcome(summary, output) {
  return { summary: String(summary), outputJson: output === undefined ? null : JSON.stringify(output) };
}

/**
 * The run's error for an uncaught exception: what went wrong, then where.
 * @param {unknown} thrown
 */
export function failureMessage(thrown) {
  const e = magentoError(thrown);
  if (e instanceof Error) {
    const head = `${e instanceof MagentoError ? e.constructor.name : e.name}: ${e.message}`;
    const stack = String(e.stack ?? '')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith(`${e.name}:`))
      .join('\n');
    return stack ? `${head}\n${stack}` : head;
  }
  return `thrown: ${typeof thrown === 'string' ? thrown : JSON.stringify(thrown) ?? String(thrown)}`;
}

/**
 * Wraps a workflow's main function (of the trigger, answering `outcome(...)` or a summary
 * string) as the component's `run` export.
 * @template T
 * @param {(trigger: T) => { summary: string, outputJson?: string | null } | string} main
 * @returns {(trigger: T) => { summary: string, outputJson: string | null }}
 */
export function workflow(main) {
  return (trigger) => {
    const saved = globalThis.console;
    globalThis.console = /** @type {any} */ ({ ...(saved ?? {}), ...runConsole });
    try {
      const got = main(trigger);
      if (typeof got === 'string') return outcome(got);
      return { summary: got.summary, outputJson: got.outputJson ?? null };
    } catch (e) {
      throw new Error(failureMessage(e));
    } finally {
      globalThis.console = saved;
    }
  };
}
