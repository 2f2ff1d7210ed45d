// Magento's refusals as exceptions. A binding whose call fails throws an Error carrying the
// `magento-error` variant as `payload` ({ tag: 'not-found', val: { status, message, ... } });
// `call` and `magentoError` turn it into one of these classes.

/** A Magento call did not do what was asked. */
export class MagentoError extends Error {
  /**
   * @param {string} message
   * @param {{ status?: number, template?: string, parameters?: Record<string, unknown> }} [refusal]
   */
  constructor(message, refusal = {}) {
    super(message);
    this.name = new.target.name;
    this.status = refusal.status ?? null;
    this.template = refusal.template ?? null;
    this.parameters = refusal.parameters ?? {};
  }
}

/** Magento refused the request (400): the message says why. */
export class BadRequest extends MagentoError {}
/** No such entity (404). */
export class NotFound extends MagentoError {}
/** The host's Magento credentials were refused. */
export class Unauthorized extends MagentoError {}
/** The workflow's grants or policy do not allow the call. */
export class Denied extends MagentoError {}
/** Magento could not be reached, or kept failing. */
export class Unavailable extends MagentoError {}
/** The arguments were refused before reaching Magento. */
export class Invalid extends MagentoError {}

const KINDS = {
  'bad-request': BadRequest,
  'not-found': NotFound,
  unauthorized: Unauthorized,
  denied: Denied,
  unavailable: Unavailable,
  invalid: Invalid,
};

/**
 * The MagentoError for a thrown binding error, or `e` itself when it is something else.
 * @param {unknown} e
 */
export function magentoError(e) {
  const payload = /** @type {any} */ (e)?.payload;
  if (e instanceof MagentoError || !payload || typeof payload.tag !== 'string') return e;
  const Kind = KINDS[payload.tag] ?? MagentoError;
  const v = payload.val;
  if (v && typeof v === 'object') {
    let parameters = {};
    try {
      parameters = v.parametersJson ? JSON.parse(v.parametersJson) : {};
    } catch {
      // Magento's parameters are JSON; keep the message when they are not.
    }
    return new Kind(String(v.message), { status: v.status, template: v.template, parameters });
  }
  return new Kind(String(v));
}

/**
 * Calls a binding, throwing a MagentoError subclass for a refusal:
 * `call(customers.get, 7)`.
 * @template {(...args: any[]) => any} F
 * @param {F} fn
 * @param {Parameters<F>} args
 * @returns {ReturnType<F>}
 */
export function call(fn, ...args) {
  try {
    return fn(...args);
  } catch (e) {
    throw magentoError(e);
  }
}
