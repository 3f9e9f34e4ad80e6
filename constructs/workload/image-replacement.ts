/**
 * `coordinator.cci.io/image-replacement` rules (Huawei's CCE bursting "Images" page; docs/constructs.md): when a pod
 * bursts to CCI, an image whose part before the last '/' equals `repositoryPrefix` has that part swapped for
 * `replaceWith`; an empty prefix matches images with no '/' at all. Both are "verified the same as the container
 * image name", and the part before the last '/' of `localhost:5000/app` is the bare host `localhost:5000`.
 */
import { parseReference } from '../../src/oci/reference.js';
import type { IConstruct } from '../lib/cdktf.js';
import { IMAGE_PREFIX } from '../lib/rules.js';
import { fail, isUnresolved } from '../lib/validation.js';
import type { MirrorSetMember } from '../mirror-set.js';

/** One CCI image-replacement rule: images whose part before the last '/' is `repositoryPrefix` pull from `replaceWith`. */
export interface ImageReplacementRule {
  /** The image-name part before the last '/' (may be a bare `host:port`), or '' for images without '/'. */
  readonly repositoryPrefix: string;
  /** The prefix to use instead, e.g. 'swr.cn-north-4.myhuaweicloud.com/acme'. */
  readonly replaceWith: string;
}

export function checkRules(scope: IConstruct, prop: string, rules: readonly ImageReplacementRule[]): void {
  const prefixes = new Set<string>();
  rules.forEach((r, i) => {
    const at = `${prop}[${i}]`;
    const { repositoryPrefix: prefix, replaceWith } = r;
    if (!isUnresolved(prefix)) {
      if (typeof prefix !== 'string')
        fail(scope, `${at}.repositoryPrefix`, prefix, "must be a string ('' matches images without '/')");
      if (prefix.endsWith('/')) fail(scope, `${at}.repositoryPrefix`, prefix, "must not end with '/'");
      if (prefix !== '' && !IMAGE_PREFIX.test(prefix)) fail(scope, `${at}.repositoryPrefix`, prefix, IMAGE_PREFIX.text);
      if (prefixes.has(prefix)) fail(scope, `${at}.repositoryPrefix`, prefix, 'must be unique among the rules');
      prefixes.add(prefix);
    }
    if (!isUnresolved(replaceWith)) {
      if (typeof replaceWith !== 'string' || replaceWith === '')
        fail(scope, `${at}.replaceWith`, replaceWith, 'must be non-empty');
      if (replaceWith.endsWith('/')) fail(scope, `${at}.replaceWith`, replaceWith, "must not end with '/'");
      if (!IMAGE_PREFIX.test(replaceWith)) fail(scope, `${at}.replaceWith`, replaceWith, IMAGE_PREFIX.text);
      if (replaceWith === prefix) fail(scope, `${at}.replaceWith`, replaceWith, 'must differ from repositoryPrefix');
    }
  });
}

/** Splits an image string as the CCI rule matcher does: before / after the last '/'. */
export function splitImage(image: string): { prefix: string; last: string } {
  const name = image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
  const slash = name.lastIndexOf('/');
  return slash < 0 ? { prefix: '', last: name } : { prefix: name.slice(0, slash), last: name.slice(slash + 1) };
}

export interface Derivation {
  readonly rules: ImageReplacementRule[];
  readonly warnings: string[];
}

/**
 * Rules for the plain-string images of a pod whose repository is mirrored in the stack: the written prefix goes to
 * the mirror's. A prefix is derived only when every image with that prefix is mirrored to the same place (a rule
 * rewrites all of them), never over an explicit rule, only when the last path component is kept (a rule cannot
 * rename it), and never for an image pinned by digest when the mirror filters platforms: the copy then writes a new,
 * smaller index with another digest, and a rule rewrites only the prefix, so CCI would ask the mirror for a digest it
 * does not have. Without a platform filter manifests are copied byte for byte and the digest holds.
 */
export function deriveRules(
  images: readonly string[],
  mirrored: readonly MirrorSetMember[],
  explicit: readonly ImageReplacementRule[],
): Derivation {
  const warnings: string[] = [];
  const byPrefix = new Map<string, { replaceWith?: string; blocked?: string }>();
  for (const image of images) {
    if (isUnresolved(image)) continue;
    const { prefix, last } = splitImage(image);
    const slot = byPrefix.get(prefix) ?? {};
    byPrefix.set(prefix, slot);
    let parsed;
    try {
      parsed = parseReference(image, { defaultTag: 'latest' });
    } catch {
      continue;
    }
    const mirror = mirrored.find((m) => m.source === parsed.name);
    if (!mirror) {
      slot.blocked ??= `"${image}" is not mirrored`;
      continue;
    }
    const dest = splitImage(mirror.destination);
    if (dest.last !== last) {
      const reason = `"${image}" is mirrored as "${mirror.destination}", and a rule cannot rename "${last}"`;
      if (slot.replaceWith === undefined) warnings.push(`no rule derived for prefix "${prefix}": ${reason}`);
      slot.blocked ??= reason;
      continue;
    }
    if (slot.replaceWith !== undefined && slot.replaceWith !== dest.prefix) {
      slot.blocked ??= `images with prefix "${prefix}" are mirrored to both "${slot.replaceWith}" and "${dest.prefix}"`;
      continue;
    }
    if (parsed.digest !== undefined && mirror.platforms !== undefined) {
      const reason = `"${image}" is pinned by digest and ${mirror.node.path} copies only ${mirror.platforms.join(', ')}, so the mirrored index has another digest`;
      if (slot.replaceWith === undefined) warnings.push(`no rule derived for prefix "${prefix}": ${reason}`);
      slot.blocked ??= reason;
      continue;
    }
    slot.replaceWith = dest.prefix;
    if (parsed.tag !== undefined && mirror.tags && !mirror.tags.includes(parsed.tag)) {
      warnings.push(
        `"${image}": tag "${parsed.tag}" is not among the mirrored tags of ${mirror.node.path} (${mirror.tags.join(', ')})`,
      );
    }
  }
  const rules: ImageReplacementRule[] = [];
  for (const [prefix, slot] of byPrefix) {
    if (explicit.some((r) => r.repositoryPrefix === prefix)) continue;
    if (slot.blocked) {
      if (slot.replaceWith !== undefined) warnings.push(`no rule derived for prefix "${prefix}": ${slot.blocked}`);
      continue;
    }
    if (slot.replaceWith !== undefined && slot.replaceWith !== prefix)
      rules.push({ repositoryPrefix: prefix, replaceWith: slot.replaceWith });
  }
  return { rules, warnings };
}
