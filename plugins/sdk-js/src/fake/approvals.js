import { host } from './host.js';

export const request = (req) => host('approvals').request(req);
