// `node --import @mageflow/sdk/register --test`: resolves the plugin's `mageflow:workflow/*`
// imports to the fake host of '@mageflow/sdk/testing', so plugin code runs natively.

import { register } from 'node:module';

register('./hooks.js', import.meta.url);
