import { host } from './host.js';

const all = () => host('groups').list();
export { all as list };
