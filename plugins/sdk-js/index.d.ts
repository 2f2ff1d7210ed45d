// Types of '@mageflow/sdk'. The bindings' own modules ('mageflow:workflow/customers@0.1.0',
// ...) are declared in types/, generated from wit/ for QuickJS components.
/// <reference path="./types/workflow.d.ts" />

import type { Outcome, Patch as WitPatch, SearchCriteria, Trigger } from 'mageflow:workflow/types@0.1.0';

export type { Outcome, Trigger };
export type * from 'mageflow:workflow/types@0.1.0';

/** What Magento's refusal carried. */
export interface Refusal {
  status?: number | null;
  template?: string | null;
  parameters?: Record<string, unknown>;
}

/** A Magento call did not do what was asked. */
export class MagentoError extends Error {
  constructor(message: string, refusal?: Refusal);
  /** The HTTP status, when Magento answered. */
  status: number | null;
  /** Magento's message template, e.g. `No such entity with %fieldName = %fieldValue`. */
  template: string | null;
  /** The template's parameters. */
  parameters: Record<string, unknown>;
}
/** Magento refused the request (400): the message says why. */
export class BadRequest extends MagentoError {}
/** No such entity (404). */
export class NotFound extends MagentoError {}
/** The host's Magento credentials were refused. */
export class Unauthorized extends MagentoError {}
/** The workflow's grants or policy do not allow the call. */
export class Denied extends MagentoError {}
/** Magento could not be reached, or kept failing. */
export class Unavailable extends MagentoError {}
/** The arguments were refused before reaching Magento. */
export class Invalid extends MagentoError {}

/** The MagentoError for a thrown binding error, or `e` itself when it is something else. */
export function magentoError(e: unknown): unknown;
/** Calls a binding, throwing a MagentoError subclass for a refusal: `call(customers.get, 7)`. */
export function call<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R;

type Write = (...parts: unknown[]) => void;
/** The run's log. While a workflow runs, `console` writes here too. */
export const log: { trace: Write; debug: Write; info: Write; warn: Write; error: Write };

/** A Magento search condition. */
export type Condition = import('mageflow:workflow/types@0.1.0').Condition;

/** Magento's largest page: 300. */
export const MAX_PAGE: number;

/** `search().where('group_id', 'eq', 1).sortBy('entity_id').pageSize(100)`. */
export class Search {
  /** ANDs a filter. A list value (for `in`, `nin`) is joined with commas. */
  where(field: string, condition: Condition, value: unknown): this;
  /** ORs a filter with the last one. */
  orWhere(field: string, condition: Condition, value: unknown): this;
  sortBy(field: string, descending?: boolean): this;
  /** 1 to 300. */
  pageSize(n: number): this;
  clone(): Search;
  /** The bindings' SearchCriteria for `page` (from 1). */
  criteria(page?: number | null): SearchCriteria;
  size: number | null;
}
export function search(): Search;

/** `patch().set('group_id', 3).customAttribute('flagged', '1')`: only what it names changes. */
export class Patch {
  /** Sets a top-level field (Magento's snake_case name) to any JSON value. */
  set(field: string, value: unknown): this;
  customAttribute(code: string, value: unknown): this;
  /** Replaces every address (Magento then deletes those the list leaves out). */
  replaceAddresses(addresses: import('mageflow:workflow/types@0.1.0').Address[]): this;
  /** The bindings' Patch. */
  build(): WitPatch;
}
export function patch(): Patch;

/** A run's outcome: a one-line summary, and any JSON value as its output. */
export function outcome(summary: string, output?: unknown): Outcome;
/** The run's error for an uncaught exception: its kind and message, then its stack. */
export function failureMessage(thrown: unknown): string;
/**
 * The component's `run` export: `export const run = workflow(main)`. An uncaught exception
 * fails the run with `Kind: message` as its first line; `main` may answer a summary string.
 */
export function workflow(main: (trigger: Trigger) => Outcome | string): (trigger: Trigger) => Outcome;
