import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Construct, TerraformStack, checkFramework } from './lib/cdktf.js';
import type { IConstruct, ISynthesisSession } from './lib/cdktf.js';
import { parseRegistryLimits } from '../src/config/registry-limits.js';
import { fail } from './lib/validation.js';
import { LOCK_FILE, MIRROR_SPEC_FILE, readLockFile, serializeMirrorSpec } from './mirror-spec.js';
import type { LockEntry, LockFile, MirrorSpec, MirrorSpecImage, RegistryLimit } from './mirror-spec.js';

export type { RegistryLimit } from './mirror-spec.js';
import type { CopyOnDeployOptions } from './copy-on-deploy.js';
import type { SwrOrganization } from './swr-organization.js';

/**
 * What a `MirrorSet` holds of each image (a `MirroredImage`): declared here so the set does not depend on the image
 * construct, which depends on the set.
 */
export interface MirrorSetMember extends IConstruct {
  /** Normalized source repository. */
  readonly source: string;
  /** Normalized destination repository. */
  readonly destination: string;
  /** Tags copied. @default - every tag */
  readonly tags?: string[];
  /** Platforms copied of a multi-arch image. @default - all */
  readonly platforms?: string[];
  /** The image's entry in the mirror spec. */
  toSpecImage(): MirrorSpecImage;
}

/** Props of a `MirrorSet`. */
export interface MirrorSetProps {
  /**
   * Lock file written by `swr-sync sync --lock`, used to pin images by digest. Relative paths resolve against the
   * working directory. A missing file is fine (before the first sync): nothing is pinned.
   * @default 'swr-mirror.lock.json'
   */
  readonly lockFile?: string;
  /** Where images go when a `MirroredImage` names no destination: an organization or `registry/namespace`. @default - none (each image names its destination) */
  readonly defaultDestination?: SwrOrganization | string;
  /** Default copy-on-deploy for the images of this set. @default false */
  readonly copyOnDeploy?: boolean | CopyOnDeployOptions;
  /**
   * Request rate and bandwidth per registry for `swr-sync sync` (the spec's `registries`), e.g.
   * `{ 'docker.io': { rate: 2 }, 'swr.cn-north-4.myhuaweicloud.com': { bandwidth: '50M' } }`: rate in requests per
   * second, bandwidth in bytes per second as a number or with a unit (k/M/G powers of 1000, Ki/Mi/Gi of 1024).
   * @default - no limits beyond swr-sync's flags
   */
  readonly registryLimits?: Record<string, RegistryLimit>;
}

const ID = 'SwrMirrorSet';
const SETS = new WeakMap<TerraformStack, MirrorSet>();

/**
 * The mirrored images of one stack. At synth it writes `swr-mirror.json` beside the stack's `cdk.tf.json`
 *, the input of `swr-sync sync --images` and of the GitHub Action's `manifest`.
 */
export class MirrorSet extends Construct {
  /** The stack's set, created with default props on first use. */
  static of(scope: IConstruct): MirrorSet {
    const stack = TerraformStack.of(scope);
    return SETS.get(stack) ?? new MirrorSet(stack, ID);
  }

  /** Absolute path of the lock file. */
  readonly lockFile: string;
  /** The lock file's content, when it exists. */
  readonly lock?: LockFile;
  /** Destination of images that name none. */
  readonly defaultDestination?: SwrOrganization | string;
  /** Copy-on-deploy default of the set's images. */
  readonly copyOnDeploy?: boolean | CopyOnDeployOptions;
  /** Per-registry limits written to the spec. */
  readonly registryLimits?: Record<string, RegistryLimit>;
  private readonly members: MirrorSetMember[] = [];
  private readonly stack: TerraformStack;

  constructor(scope: Construct, id: string, props: MirrorSetProps = {}) {
    super(scope, id);
    checkFramework(this);
    const stack = TerraformStack.of(this);
    const existing = SETS.get(stack);
    // One spec file per stack, so one set: images created before an explicit set would be split across two.
    if (existing)
      fail(
        this,
        'MirrorSet',
        id,
        `must be unique per stack (one exists at ${existing.node.path}; create it before any MirroredImage)`,
      );
    SETS.set(stack, this);
    this.stack = stack;
    this.lockFile = resolve(props.lockFile ?? LOCK_FILE);
    try {
      this.lock = readLockFile(this.lockFile);
    } catch (err) {
      // ConfigError already names the file; the rule is what follows it.
      const { key, message } = err as { key?: string; message: string };
      fail(
        this,
        'lockFile',
        props.lockFile ?? LOCK_FILE,
        key ? `${message.slice(message.indexOf(`key "${key}"`))}` : message,
      );
    }
    this.defaultDestination = props.defaultDestination;
    this.copyOnDeploy = props.copyOnDeploy;
    if (props.registryLimits !== undefined) {
      // The same parser swr-sync reads the spec with: what synth accepts, sync accepts.
      const { problems } = parseRegistryLimits(props.registryLimits, {});
      if (problems.length > 0) fail(this, 'registryLimits', props.registryLimits, problems.join('; '));
      this.registryLimits = props.registryLimits;
    }
    this.node.addValidation({ validate: () => this.conflicts() });

    const inner = stack.synthesizer;
    stack.synthesizer = {
      synthesize: (session: ISynthesisSession) => {
        inner.synthesize(session);
        this.writeSpec(session);
      },
    };
  }

  /** The set's images, in creation order. */
  get images(): readonly MirrorSetMember[] {
    return this.members;
  }

  /** @internal called by MirroredImage */
  _register(image: MirrorSetMember): void {
    this.members.push(image);
  }

  /** The lock entry of a destination reference `registry/repository:tag`, if synced. */
  lockEntry(destinationReference: string): LockEntry | undefined {
    return this.lock?.images[destinationReference];
  }

  /** The `swr-mirror.json` content. */
  toSpec(): MirrorSpec {
    return {
      version: 1,
      stack: this.stack.node.id,
      images: this.members.map((m) => m.toSpecImage()),
      ...(this.registryLimits ? { registries: this.registryLimits } : {}),
    };
  }

  /** Two images writing the same destination tag from different sources would overwrite each other. */
  private conflicts(): string[] {
    const writers = new Map<string, MirrorSetMember>();
    const errors: string[] = [];
    for (const image of this.members) {
      for (const tag of image.tags ?? ['*']) {
        const key = `${image.destination}:${tag}`;
        const other = writers.get(key);
        if (other && other.source !== image.source) {
          errors.push(
            `${image.node.path}: destination "${key}" is also written by ${other.node.path} from "${other.source}"; ` +
              'each destination tag must have one source',
          );
        }
        writers.set(key, image);
      }
    }
    return errors;
  }

  private writeSpec(session: ISynthesisSession): void {
    const dir = join(session.outdir, session.manifest.forStack(this.stack).workingDirectory);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, MIRROR_SPEC_FILE), serializeMirrorSpec(this.toSpec()));
  }
}
