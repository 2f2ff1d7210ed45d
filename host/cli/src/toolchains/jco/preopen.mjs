// Loaded with `node --import` before jco: jco's WASI shims (preview2-shim) start with no
// preopened directory on Node 20, and then fail with "No such file or directory (os error
// 44)". This gives every copy of the shim in this toolchain the host's root. (Set in
// NODE_OPTIONS instead, it would load in jco's worker threads too, which recurse.)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const copies = [
  'node_modules/@bytecodealliance/preview2-shim',
  'node_modules/@bytecodealliance/jco/node_modules/@bytecodealliance/preview2-shim',
  'node_modules/@bytecodealliance/jco-transpile/node_modules/@bytecodealliance/preview2-shim',
];
for (const copy of copies) {
  const file = join(here, copy, 'dist/nodejs/filesystem.js');
  if (existsSync(file)) {
    const shim = await import(pathToFileURL(file).href);
    shim._setPreopens({ '/': '/' });
  }
}
