import { host } from './host.js';

const h = () => host('customers');
export const search = (criteria) => h().search(criteria);
export const get = (id) => h().get(id);
export const findByEmail = (email, websiteId) => h().findByEmail(email, websiteId);
export const create = (customer, password) => h().create(customer, password);
export const update = (id, patch) => h().update(id, patch);
const remove = (id) => h().delete(id);
export { remove as delete };
