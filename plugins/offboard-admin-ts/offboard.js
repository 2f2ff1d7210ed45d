// What the plugin decides, apart from Magento, so `node --test` tests it natively.

/**
 * Reads `{ email, reason }` from the manual input.
 * @param {string} text
 */
export function readInput(text) {
  let v;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`input is not JSON: ${e.message}`);
  }
  if (typeof v?.email !== 'string' || !v.email.includes('@')) throw new Error('input has no email');
  return { email: v.email, reason: typeof v.reason === 'string' ? v.reason : 'offboarding' };
}

/**
 * The outcome of an approval decision (jco's `{ tag, val }` variant), for `user`.
 * @returns {{ deactivate: boolean, summary?: string, error?: string }}
 */
export function afterDecision(decision, user) {
  switch (decision.tag) {
    case 'approved':
      return { deactivate: true };
    case 'rejected': {
      const [by, why] = decision.val;
      return { deactivate: false, summary: `kept ${user.username} active: rejected by ${by} (${why})` };
    }
    default:
      return { deactivate: false, error: `the approval to deactivate ${user.username} expired` };
  }
}
