import { host } from './host.js';

const h = () => host('bulk');
export const submitUpdates = (updates) => h().submitUpdates(updates);
export const status = (bulkUuid) => h().status(bulkUuid);
export const wait = (bulkUuids, stallAfterSecs) => h().wait(bulkUuids, stallAfterSecs);
