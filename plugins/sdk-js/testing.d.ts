// Types of '@mageflow/sdk/testing': the fake host for `node --import @mageflow/sdk/register --test`.
/// <reference path="./types/workflow.d.ts" />
import type { AdminUser, Customer, Trigger } from 'mageflow:workflow/types@0.1.0';

export function customer(id: number, email: string, extra?: Partial<Customer>): Customer;
export function adminUser(id: number, username: string, email: string, extra?: Partial<AdminUser>): AdminUser;
export function manual(input: unknown): Trigger;
export function schedule(unixSecs: number): Trigger;
export function webhook(name: string, body: unknown): Trigger;
export function poll(customers: Customer[]): Trigger;
export function range(first: number, last: number): number[];
/** Magento's refusals, as the host throws them. */
export function notFound(field: string, value: unknown): Error;
export function badRequest(message: string, template?: string): Error;

export class Fake {
  customers: Map<number, Customer>;
  adminUsers: Map<number, AdminUser>;
  groups: { id: number; code: string }[];
  roles: { id: number; name: string }[];
  approvals: import('mageflow:workflow/approvals@0.1.0').ApprovalRequest[];
  /** `level: message` lines. */
  log: string[];
  config: Map<string, string>;
  state: Map<string, string>;
  now: number;
  /** `interface.function` names, in order. */
  calls: string[];
  withCustomers(list: Iterable<Customer>): this;
  withAdminUsers(list: Iterable<AdminUser>): this;
  withConfig(key: string, value: unknown): this;
  deciding(decision: { approvedBy: string } | { rejected: [string, string] } | { expired: true }): this;
  install<R>(fn: () => R): R;
  run<R>(main: (trigger: Trigger) => R, trigger: Trigger): R;
}
