// The fake host the interface modules answer from: set by `Fake.run` and `Fake.install`.

const KEY = Symbol.for('mageflow.sdk.fake-host');

/** @param {object | null} fake */
export function setHost(fake) {
  globalThis[KEY] = fake;
}

/** The current fake's implementation of `iface`. */
export function host(iface) {
  const fake = globalThis[KEY];
  if (!fake) {
    throw new Error(
      `mageflow:workflow/${iface} was called with no fake host: run the plugin with ` +
        "new Fake().run(main, trigger), or inside fake.install(() => ...), from '@mageflow/sdk/testing'",
    );
  }
  return fake.interface(iface);
}
