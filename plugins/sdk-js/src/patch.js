// PUT-merge patches: only the fields named change (the host never sends a whole customer
// built by the plugin, so addresses and attributes not named are kept).

/** `patch().set('group_id', 3).customAttribute('flagged', '1')`. */
export class Patch {
  constructor() {
    /** @type {{ field: string, valueJson: string }[]} */
    this.fields = [];
    /** @type {{ code: string, value: string }[]} */
    this.attributes = [];
    /** @type {object[] | null} */
    this.addresses = null;
  }

  /** Sets a top-level field to `value` (any JSON value). */
  set(field, value) {
    const valueJson = JSON.stringify(value);
    if (valueJson === undefined) throw new TypeError(`${field}: ${String(value)} is not a JSON value`);
    this.fields.push({ field, valueJson });
    return this;
  }

  customAttribute(code, value) {
    this.attributes.push({ code, value: String(value) });
    return this;
  }

  /** Replaces every address (the one way a patch touches them). */
  replaceAddresses(addresses) {
    this.addresses = [...addresses];
    return this;
  }

  /** The bindings' `Patch`. */
  build() {
    return {
      set: this.fields.map((f) => ({ ...f })),
      customAttributes: this.attributes.map((a) => ({ ...a })),
      replaceAddresses: this.addresses,
    };
  }
}

export const patch = () => new Patch();
