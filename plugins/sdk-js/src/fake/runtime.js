import { host } from './host.js';

const h = () => host('runtime');
export const log = (level, message) => h().log(level, message);
export const now = () => h().now();
export const config = (key) => h().config(key);
export const stateGet = (key) => h().stateGet(key);
export const stateSet = (key, value) => h().stateSet(key, value);
