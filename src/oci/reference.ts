import { resolve } from 'node:path';
import { InvalidReferenceError } from '../errors.js';
import { digestProblem } from './digest.js';

/**
 * Image references, following the grammar of distribution's `reference` package (reference/regexp.go):
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [domain "/"] path-component ["/" path-component]*
 *   domain    := host [":" port]
 *
 * With Docker Hub defaults: no domain means `docker.io`, a one-component path on Docker Hub gets `library/`,
 * and `index.docker.io` / `registry-1.docker.io` fold into `docker.io` so credentials and results use one name.
 *
 * Also OCI image layouts, as skopeo's `oci:` and `oci-archive:` transports name them (containers-transports(5)):
 * `oci:DIR[:REF]` and `oci-archive:FILE[:REF]`. The path ends at the first ':' (so it holds none), REF is an
 * image-spec ref name (annotation `org.opencontainers.image.ref.name`) or `@N`, the N-th entry of index.json.
 * A layout Reference has the transport as `registry` and the absolute path as `repository`; `tag` holds REF.
 * Neither is a valid registry host, so a layout is never mistaken for a registry.
 */

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** Maximum length of `domain/path` (distribution: NameTotalLengthMax). */
const NAME_MAX = 255;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?$`);
const TAG = /^[\w][\w.-]{0,127}$/;

/** The transports that name an OCI image layout: a directory, or a tar of one. */
export const LAYOUT_TRANSPORTS = ['oci', 'oci-archive'] as const;
/** `oci` (a layout directory) or `oci-archive` (a tar of one). */
export type LayoutTransport = (typeof LAYOUT_TRANSPORTS)[number];

/**
 * image-spec annotations.md, `org.opencontainers.image.ref.name`: components of alphanumerics joined by one of
 * `-._:@+` or `--`, separated by '/'. containers/image validates oci: references with the same grammar.
 */
const REF_NAME = /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;
/** skopeo's `oci:DIR:@N`: the N-th (zero-based) entry of index.json's `manifests`. */
const SOURCE_INDEX = /^@(\d{1,9})$/;

/** How `parseReference` fills in what a reference leaves out. */
export interface ParseReferenceOptions {
  /** Tag to assume when the reference has neither tag nor digest. `false` keeps the tag undefined. @default 'latest' */
  readonly defaultTag?: string | false;
}

/** A parsed image reference: registry, repository, tag and/or digest, with Docker Hub's defaults applied; or an OCI layout (`oci:`/`oci-archive:`) path and ref name. */
export class Reference {
  /** Registry host with optional port, lowercase, Docker Hub folded into `docker.io`. */
  readonly registry: string;
  /** Repository path within the registry, e.g. `library/nginx`. */
  readonly repository: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
  /**
   * Whether `tag` was not written but assumed (`parseReference`'s `defaultTag`, `latest`). A copy destination with
   * an assumed tag takes the source's tag instead (CopyEngine.copy), as `swr-sync copy` does.
   */
  readonly tagImplied: boolean;

  constructor(
    registry: string,
    repository: string,
    tag?: string,
    digest?: string,
    options: { readonly tagImplied?: boolean } = {},
  ) {
    this.registry = registry;
    this.repository = repository;
    this.tag = tag;
    this.digest = digest;
    this.tagImplied = tag !== undefined && options.tagImplied === true;
  }

  static parse(input: string, options: ParseReferenceOptions = {}): Reference {
    return parseReference(input, options);
  }

  /** `registry/repository`, without tag or digest; `oci:/path` for a layout. */
  get name(): string {
    return isLayoutRegistry(this.registry)
      ? `${this.registry}:${this.repository}`
      : `${this.registry}/${this.repository}`;
  }

  /** Whether this names an OCI image layout (`oci:` / `oci-archive:`) rather than a registry repository. */
  get isLayout(): boolean {
    return isLayoutRegistry(this.registry);
  }

  /**
   * What a manifest request addresses: the digest when pinned, else the tag. For a layout named without REF it is
   * '', which the layout store reads as "the only manifest of index.json" (skopeo's rule).
   */
  get ref(): string {
    const ref = this.digest ?? this.tag;
    if (ref !== undefined) return ref;
    if (this.isLayout) return '';
    throw new InvalidReferenceError(this.toString(), 'a tag or digest is required here');
  }

  withTag(tag: string | undefined): Reference {
    return new Reference(this.registry, this.repository, tag, undefined);
  }

  withDigest(digest: string | undefined): Reference {
    return new Reference(this.registry, this.repository, this.tag, digest, {
      tagImplied: this.tagImplied && digest === undefined,
    });
  }

  toString(): string {
    return `${this.name}${this.tag === undefined ? '' : `:${this.tag}`}${this.digest === undefined ? '' : `@${this.digest}`}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

export function isLayoutRegistry(registry: string): registry is LayoutTransport {
  return registry === 'oci' || registry === 'oci-archive';
}

/** Why `ref` cannot be a layout ref name (annotation `org.opencontainers.image.ref.name`), or undefined. */
export function refNameProblem(ref: string): string | undefined {
  if (REF_NAME.test(ref)) return undefined;
  return "a ref name is letters and digits in components joined by '-', '.', '_', ':', '@', '+' or '--', separated by '/' (image-spec annotation org.opencontainers.image.ref.name)";
}

/** `@N` → N, for skopeo's source index; undefined for anything else. */
export function sourceIndexOf(ref: string): number | undefined {
  const match = SOURCE_INDEX.exec(ref);
  return match ? Number(match[1]) : undefined;
}

/** The transport prefix `input` starts with (`oci:` / `oci-archive:`), if any. */
export function layoutTransportOf(input: string): LayoutTransport | undefined {
  if (input.startsWith('oci-archive:')) return 'oci-archive';
  if (input.startsWith('oci:')) return 'oci';
  return undefined;
}

/**
 * `oci:DIR[:REF]` / `oci-archive:FILE[:REF]` (containers/image `oci/internal/oci_util.go`: the path ends at the
 * first ':'; REF is a ref name or `@N`). The path is made absolute against the working directory, so the reference
 * names the same layout wherever it is printed. `oci:DIR:` is `oci:DIR`, as in skopeo.
 */
export function parseLayoutReference(input: string): Reference {
  const transport = layoutTransportOf(input);
  if (transport === undefined)
    throw new InvalidReferenceError(input, 'an OCI layout reference starts with "oci:" or "oci-archive:"');
  const form = transport === 'oci' ? 'oci:DIR[:REF]' : 'oci-archive:FILE[:REF]';
  if (input !== input.trim() || /\s/.test(input))
    throw new InvalidReferenceError(input, 'a reference contains no whitespace');
  const rest = input.slice(transport.length + 1);
  const colon = rest.indexOf(':');
  const path = colon < 0 ? rest : rest.slice(0, colon);
  const ref = colon < 0 ? '' : rest.slice(colon + 1);
  if (path === '')
    throw new InvalidReferenceError(
      input,
      `the ${transport === 'oci' ? 'layout directory' : 'archive file'} path is missing: write ${form}`,
    );
  if (path.startsWith('//'))
    throw new InvalidReferenceError(input, `${transport}: takes a file system path, not a URL: write ${form}`);
  // skopeo would take `oci:/d@sha256:<hex>` as directory "/d@sha256" and ref "<hex>": surely not what was meant.
  if (/@(?:sha256|sha512)$/.test(path))
    throw new InvalidReferenceError(
      input,
      `${transport}: names an image by ref name or @N, not by digest: write ${form}`,
    );
  if (ref !== '') {
    if (ref.startsWith('@')) {
      if (sourceIndexOf(ref) === undefined) {
        throw new InvalidReferenceError(
          input,
          `"${ref}" is not a source index: write @N with N a zero-based index into index.json (digests are not accepted after ${transport}:)`,
        );
      }
    } else {
      const problem = refNameProblem(ref);
      if (problem) throw new InvalidReferenceError(input, `REF "${ref}" is invalid: ${problem}`);
    }
  }
  const canonical = ref.startsWith('@') ? `@${sourceIndexOf(ref)}` : ref;
  return new Reference(transport, resolve(path), canonical === '' ? undefined : canonical, undefined);
}

export function normalizeRegistry(host: string): string {
  const lower = host.toLowerCase();
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB : lower;
}

/** `name[:tag]@digest` → its parts; `problem` says why the digest is invalid. */
export function splitDigest(text: string): { name: string; digest?: string; problem?: string } {
  const at = text.indexOf('@');
  if (at < 0) return { name: text };
  const digest = text.slice(at + 1);
  const problem = digestProblem(digest);
  return { name: text.slice(0, at), digest, ...(problem ? { problem } : {}) };
}

export function tagProblem(tag: string): string | undefined {
  if (TAG.test(tag)) return undefined;
  if (tag.length > 128) return `a tag is at most 128 characters (found ${tag.length})`;
  return "a tag is letters, digits, '_', '.' and '-', not starting with '.' or '-'";
}

export function repositoryProblem(repository: string): string | undefined {
  if (repository === '') return 'the repository path is empty';
  for (const component of repository.split('/')) {
    if (component === '') return 'path components must not be empty (no leading, trailing or double "/")';
    if (!PATH_COMPONENT.test(component)) {
      if (component !== component.toLowerCase()) return `repository names must be lowercase ("${component}")`;
      return `path component "${component}" must be lowercase letters and digits, separated by '.', '_', '__' or '-'`;
    }
  }
  return undefined;
}

/** Parses `[registry[:port]/]path[:tag][@digest]` (Docker Hub defaults) or `oci:DIR[:REF]` / `oci-archive:FILE[:REF]`; throws `InvalidReferenceError` naming the rule. */
export function parseReference(input: string, options: ParseReferenceOptions = {}): Reference {
  if (typeof input !== 'string' || input.trim() === '')
    throw new InvalidReferenceError(String(input ?? ''), 'the reference is empty');
  if (layoutTransportOf(input) !== undefined) return parseLayoutReference(input);
  if (input !== input.trim() || /\s/.test(input))
    throw new InvalidReferenceError(input, 'a reference contains no whitespace');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    throw new InvalidReferenceError(input, 'a reference has no URL scheme: write "host[:port]/path[:tag][@digest]"');
  }

  const split = splitDigest(input);
  if (split.problem) throw new InvalidReferenceError(input, split.problem);
  let rest = split.name;
  const digest = split.digest;

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    const problem = tagProblem(tag);
    if (problem) throw new InvalidReferenceError(input, problem);
  }

  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    // distribution's splitDockerDomain: the first component is a registry host when it has a '.' or ':', is
    // "localhost", or has uppercase letters (repository paths never do).
    if (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase()) {
      if (!DOMAIN.test(first)) throw new InvalidReferenceError(input, `"${first}" is not a valid registry host[:port]`);
      registry = normalizeRegistry(first);
      repository = rest.slice(slash + 1);
    }
  }
  if (registry === DOCKER_HUB && repository !== '' && !repository.includes('/')) repository = `library/${repository}`;

  const problem = repositoryProblem(repository);
  if (problem) throw new InvalidReferenceError(input, problem);
  if (registry.length + 1 + repository.length > NAME_MAX) {
    throw new InvalidReferenceError(
      input,
      `a repository name is at most ${NAME_MAX} characters including the registry`,
    );
  }

  const defaultTag = options.defaultTag === undefined ? 'latest' : options.defaultTag;
  const tagImplied = tag === undefined && digest === undefined && defaultTag !== false;
  if (tagImplied) tag = defaultTag;
  return new Reference(registry, repository, tag, digest, { tagImplied });
}
