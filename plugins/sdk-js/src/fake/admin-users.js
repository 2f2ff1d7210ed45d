import { host } from './host.js';

const h = () => host('admin-users');
export const search = (criteria) => h().search(criteria);
export const get = (id) => h().get(id);
export const findByEmail = (email) => h().findByEmail(email);
export const create = (user, password) => h().create(user, password);
export const update = (id, patch) => h().update(id, patch);
export const deactivate = (id) => h().deactivate(id);
const remove = (id) => h().delete(id);
export { remove as delete };
export const roles = () => h().roles();
