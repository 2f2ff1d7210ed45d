// Module resolution hooks (see register.js): each `mageflow:workflow/<interface>@0.1.0`
// resolves to that interface's fake module.

const INTERFACES = new Set(['customers', 'groups', 'admin-users', 'bulk', 'approvals', 'runtime', 'types']);

export async function resolve(specifier, context, next) {
  const m = /^mageflow:workflow\/([a-z-]+)@0\.1\.0$/.exec(specifier);
  if (m && INTERFACES.has(m[1])) {
    return { url: new URL(`./fake/${m[1]}.js`, import.meta.url).href, shortCircuit: true };
  }
  if (specifier.startsWith('mageflow:')) {
    throw new Error(`${specifier} is no interface of mageflow:workflow@0.1.0 (${[...INTERFACES].join(', ')})`);
  }
  return next(specifier, context);
}
