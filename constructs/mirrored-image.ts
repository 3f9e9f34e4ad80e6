import { parseReference } from '../src/oci/reference.js';
import type { Reference } from '../src/oci/reference.js';
import { Annotations, Construct, DataResource, TerraformStack, checkFramework } from './lib/cdktf.js';
import { IMAGE_TAG, PLATFORM, REPOSITORY_NAME } from './lib/rules.js';
import { check, fail, isUnresolved } from './lib/validation.js';
import { copyCommand, resolveCopyOptions } from './copy-on-deploy.js';
import type { CopyOnDeployOptions } from './copy-on-deploy.js';
import { MirrorSet, type MirrorSetMember } from './mirror-set.js';
import type { MirrorSpecImage } from './mirror-spec.js';
import { SwrOrganization } from './swr-organization.js';
import { SwrRepository } from './swr-repository.js';

/** Props of a `MirroredImage`. */
export interface MirroredImageProps {
  /**
   * Source repository, e.g. 'docker.io/library/nginx' or 'nginx' (Docker Hub defaults apply). A tag here
   * ('nginx:1.27') is the same as `tags: ['1.27']`.
   */
  readonly source: string;
  /** Tags to copy. @default - all tags of the source (then `reference` is unavailable) */
  readonly tags?: string[];
  /**
   * Destination: a repository reference 'registry/namespace/name', an `SwrRepository`, or an `SwrOrganization`
   * (then the repository is `repositoryName`).
   * @default - the MirrorSet's defaultDestination
   */
  readonly destination?: string | SwrRepository | SwrOrganization;
  /** Repository name under an organization or namespace destination. @default - the last path component of source */
  readonly repositoryName?: string;
  /** Platforms to copy, e.g. ['linux/amd64', 'linux/arm64']. @default - all */
  readonly platforms?: string[];
  /**
   * Also copy what refers to the image: signatures, attestations and SBOMs (OCI 1.1 referrers, the `sha256-<hex>`
   * referrers tag and cosign's `.sig`/`.att`/`.sbom` tags), so that `cosign verify` works against the mirror.
   * @default false
   */
  readonly withReferrers?: boolean;
  /** Copy when `terraform apply` runs. @default - the MirrorSet's setting (off) */
  readonly copyOnDeploy?: boolean | CopyOnDeployOptions;
  /** @default MirrorSet.of(this) */
  readonly mirrorSet?: MirrorSet;
}

/**
 * An image mirrored into (usually) SWR: an entry of the stack's `swr-mirror.json`, references to use in workloads,
 * and optionally a copy on `terraform apply`.
 */
export class MirroredImage extends Construct implements MirrorSetMember {
  /** Normalized source repository, e.g. 'docker.io/library/nginx'. */
  readonly source: string;
  /** Normalized destination repository, e.g. 'swr.cn-north-4.myhuaweicloud.com/acme/nginx'. */
  readonly destination: string;
  /** Tags copied; undefined means all tags. */
  readonly tags?: string[];
  /** Platforms copied; undefined means all. */
  readonly platforms?: string[];
  /** Whether signatures, attestations and SBOMs are copied too. */
  readonly withReferrers: boolean;
  /** The set (and `swr-mirror.json`) this image belongs to. */
  readonly mirrorSet: MirrorSet;
  /** The copy-on-deploy `terraform_data` resources, one per tag. */
  readonly copyResources: DataResource[] = [];
  private readonly warned = new Set<string>();

  constructor(scope: Construct, id: string, props: MirroredImageProps) {
    super(scope, id);
    checkFramework(this);
    this.mirrorSet = props.mirrorSet ?? MirrorSet.of(this);

    const source = this.parse('source', props.source);
    if (source.digest !== undefined) fail(this, 'source', props.source, 'must not carry a digest: mirrors copy tags');
    if (source.tag !== undefined && props.tags !== undefined) {
      fail(this, 'source', props.source, 'must not carry a tag when tags is set');
    }
    this.source = source.name;
    const tags = props.tags ?? (source.tag !== undefined ? [source.tag] : undefined);
    if (tags !== undefined) {
      if (!Array.isArray(tags) || tags.length === 0)
        fail(this, 'tags', tags, 'must list at least one tag (omit it for all tags)');
      tags.forEach((t, i) => {
        if (isUnresolved(t)) fail(this, `tags[${i}]`, t, 'must be known at synth: it is written to swr-mirror.json');
        check(this, `tags[${i}]`, t, IMAGE_TAG);
        if (tags.indexOf(t) !== i) fail(this, `tags[${i}]`, t, 'must appear once');
      });
      this.tags = [...tags];
    }
    if (props.platforms !== undefined) {
      if (props.platforms.length === 0)
        fail(this, 'platforms', props.platforms, 'must list at least one platform (omit it for all)');
      props.platforms.forEach((p, i) => check(this, `platforms[${i}]`, p, PLATFORM));
      this.platforms = [...props.platforms];
    }
    if (props.withReferrers !== undefined && typeof props.withReferrers !== 'boolean')
      fail(this, 'withReferrers', props.withReferrers, 'must be true or false');
    this.withReferrers = props.withReferrers ?? false;
    check(this, 'repositoryName', props.repositoryName, REPOSITORY_NAME);
    this.destination = this.resolveDestination(props, source);
    this.mirrorSet._register(this);

    const copy = props.copyOnDeploy ?? this.mirrorSet.copyOnDeploy;
    if (copy) this.addCopyOnDeploy(copy === true ? {} : copy);
  }

  /** `destination:tag` for the first (or given) tag. */
  get reference(): string {
    return this.referenceFor(this.firstTag('reference'));
  }

  /** `destination@sha256:…` from the lock file; the tag form, with a synth warning, when the lock lacks it. */
  get pinnedReference(): string {
    return this.pinnedReferenceFor(this.firstTag('pinnedReference'));
  }

  /** `destination:tag` for a mirrored tag. */
  referenceFor(tag: string): string {
    this.requireTag(tag);
    return `${this.destination}:${tag}`;
  }

  /** `destination@sha256:…` for a mirrored tag, from the lock file; the tag form, with a synth warning, when it lacks one. */
  pinnedReferenceFor(tag: string): string {
    const reference = this.referenceFor(tag);
    const entry = this.mirrorSet.lockEntry(reference);
    if (entry) return `${this.destination}@${entry.digest}`;
    if (!this.warned.has(tag)) {
      this.warned.add(tag);
      Annotations.of(this).addWarning(
        `${this.mirrorSet.lockFile} has no entry for "${reference}"; using the tag reference. ` +
          'Run `swr-sync sync --lock` and synth again to pin it by digest.',
      );
    }
    return reference;
  }

  /** The source reference a copy starts from: pinned to the locked source digest when there is one. */
  sourceReferenceFor(tag: string): string {
    const entry = this.mirrorSet.lockEntry(this.referenceFor(tag));
    return entry ? `${this.source}@${entry.sourceDigest}` : `${this.source}:${tag}`;
  }

  toSpecImage(): MirrorSpecImage {
    const stackPath = TerraformStack.of(this).node.path;
    return {
      id: stackPath ? this.node.path.slice(stackPath.length + 1) : this.node.path,
      source: this.source,
      destination: this.destination,
      ...(this.tags ? { tags: this.tags } : {}),
      ...(this.platforms ? { platforms: this.platforms } : {}),
      ...(this.withReferrers ? { referrers: true } : {}),
    };
  }

  private parse(prop: string, value: string): Reference {
    if (value === undefined) fail(this, prop, value, 'is required');
    if (isUnresolved(value)) fail(this, prop, value, 'must be known at synth: it is written to swr-mirror.json');
    try {
      return parseReference(value, { defaultTag: false });
    } catch (err) {
      // InvalidReferenceError repeats the input; the message here already shows it.
      const reason = (err as Error).message.replace(/^invalid image reference "[^"]*": /, '');
      return fail(this, prop, value, `must be an image reference [registry[:port]/]path: ${reason}`);
    }
  }

  private resolveDestination(props: MirroredImageProps, source: Reference): string {
    const target = props.destination ?? this.mirrorSet.defaultDestination;
    const prop = props.destination !== undefined ? 'destination' : 'mirrorSet.defaultDestination';
    const name = props.repositoryName ?? source.repository.split('/').pop()!;
    const known = (value: string, what: string): string => {
      if (isUnresolved(value)) {
        fail(this, prop, value, `must be known at synth (${what}): give the organization a region, or pass a string`);
      }
      return value;
    };
    let reference: string;
    if (target === undefined) {
      return fail(this, 'destination', undefined, 'is required (or set defaultDestination on the MirrorSet)');
    } else if (target instanceof SwrRepository) {
      if (props.repositoryName !== undefined)
        fail(this, 'repositoryName', props.repositoryName, 'must not be set when destination is an SwrRepository');
      reference = known(target.repositoryUri, "the repository's login server");
    } else if (target instanceof SwrOrganization) {
      reference = `${known(target.loginServer, "the organization's login server")}/${target.organizationName}/${name}`;
    } else if (props.destination !== undefined) {
      reference = props.repositoryName !== undefined ? `${target}/${props.repositoryName}` : target;
    } else {
      reference = `${target}/${name}`; // a MirrorSet default is a registry/namespace prefix
    }
    const parsed = this.parse(prop, reference);
    if (parsed.tag !== undefined || parsed.digest !== undefined) {
      fail(this, prop, reference, 'must be a repository without tag or digest (tags are a separate list)');
    }
    if (parsed.name === this.source) fail(this, prop, reference, 'must differ from source');
    return parsed.name;
  }

  private addCopyOnDeploy(given: CopyOnDeployOptions): void {
    if (!this.tags) fail(this, 'copyOnDeploy', true, 'needs tags: swr-sync copy copies one tag at a time');
    if (given.command !== undefined && (isUnresolved(given.command) || given.command.trim() === '')) {
      fail(this, 'copyOnDeploy.command', given.command, 'must be a non-empty command known at synth');
    }
    for (const key of ['authFile', 'srcAuthFile', 'destAuthFile', 'workingDir'] as const) {
      const value = given[key];
      if (value !== undefined && (isUnresolved(value) || typeof value !== 'string' || value === '')) {
        fail(
          this,
          `copyOnDeploy.${key}`,
          value,
          'must be a non-empty path known at synth (it is resolved against the app directory)',
        );
      }
    }
    // local-exec runs in the stack directory: relative paths would miss (see copy-on-deploy.ts).
    const options = resolveCopyOptions(given);
    for (const tag of this.tags) {
      const source = this.sourceReferenceFor(tag);
      const destination = this.referenceFor(tag);
      this.copyResources.push(
        new DataResource(this, `Copy-${tag}`, {
          triggersReplace: {
            source,
            destination,
            ...(this.platforms ? { platforms: this.platforms.join(',') } : {}),
            ...(this.withReferrers ? { referrers: 'true' } : {}),
          },
          provisioners: [
            {
              type: 'local-exec',
              command: copyCommand(options, source, destination, this.platforms, this.withReferrers),
              ...(options.environment ? { environment: options.environment } : {}),
              ...(options.workingDir ? { workingDir: options.workingDir } : {}),
            },
          ],
        }),
      );
    }
  }

  private firstTag(what: string): string {
    if (!this.tags) fail(this, 'tags', undefined, `must be set to use ${what} (no tags means all tags)`);
    return this.tags[0]!;
  }

  private requireTag(tag: string): void {
    if (this.tags && !this.tags.includes(tag))
      fail(this, 'tag', tag, `must be one of the mirrored tags (${this.tags.join(', ')})`);
    check(this, 'tag', tag, IMAGE_TAG);
  }
}
