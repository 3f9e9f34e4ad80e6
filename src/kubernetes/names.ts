/**
 * Kubernetes object-name rules (RFC 1123 as Kubernetes applies it: k8s.io/apimachinery
 * pkg/util/validation IsDNS1123Subdomain / IsDNS1123Label), as data: a predicate plus the sentence that ends a
 * validation message ("<what> "<value>" must be …"). Shared by the CLI and the constructs.
 */
import { SwrSyncError } from '../errors.js';

export interface NameRule {
  readonly test: (value: string) => boolean;
  readonly text: string;
}

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';

/** Names of most objects, Secrets included: at most 253 characters, dot-separated DNS labels. */
export const DNS1123_SUBDOMAIN: NameRule = {
  text:
    "must be at most 253 lowercase letters, digits, '-' or '.', each dot-separated part starting and ending with " +
    'a letter or digit (Kubernetes DNS subdomain, RFC 1123)',
  test: (v) => v.length >= 1 && v.length <= 253 && new RegExp(`^${LABEL}(\\.${LABEL})*$`).test(v),
};

/** Namespaces, container names, Service names: one DNS label of at most 63 characters. */
export const DNS1123_LABEL: NameRule = {
  text:
    "must be at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit " +
    '(Kubernetes DNS label, RFC 1123)',
  test: (v) => v.length >= 1 && v.length <= 63 && new RegExp(`^${LABEL}$`).test(v),
};

/** Throws `ERR_INVALID_ARGUMENT` "<what> "<value>" <rule>" unless `value` follows `rule`. Only for non-secret values. */
export function requireRule(what: string, value: string, rule: NameRule): void {
  if (!rule.test(value))
    throw new SwrSyncError('ERR_INVALID_ARGUMENT', `${what} ${JSON.stringify(value)} ${rule.text}`);
}
