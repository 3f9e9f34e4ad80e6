import type { ReferrerStore } from '../store/image-store.js';
import type { Access, ManifestHead } from '../client/registry-client.js';
import { describeError, isSwrSyncError } from '../errors.js';
import { MediaType, parseManifest, type Descriptor } from '../oci/manifest.js';
import type { ImageTask } from './image-task.js';
import type { PlanEntry } from './planner.js';
import { Limiter } from '../util/limiter.js';
import { filterIndex } from '../oci/platform-filter.js';

/**
 * Signatures, attestations and SBOMs: what refers to an image, found the three ways registries hold it, and copied
 * by digest so signatures still verify at the destination.
 *
 * - OCI 1.1 referrers API, `GET /v2/<name>/referrers/<digest>` (distribution-spec "Listing Referrers").
 * - When that answers 404, the referrers tag schema: tag `sha256-<hex>` holding an image index of the referrers
 *   (distribution-spec "Unavailable Referrers API"), which oras and cosign maintain on such registries.
 * - cosign's tag-based discovery (cosign specs/SIGNATURE_SPEC.md): `sha256-<hex>.sig`, and likewise `.att` and
 *   `.sbom`, each one manifest in the same repository.
 *
 * Subjects are the image's digest and, for an index, every child's digest: cosign signs the index (and with
 * `--recursive` each child), BuildKit and per-platform tools attach attestations to the children. Children of nested
 * indexes are not searched. Referrers of referrers (a signature of an attestation) are followed one level, no further.
 *
 * At the destination, a referrers tag is written verbatim once every referrer it lists is there, and cosign tags as
 * tags; a registry with the referrers API indexes the copied manifests by their `subject` itself. When the source
 * has the API and the destination does not, the destination's referrers tag is created or extended, as a client
 * pushing a manifest with `subject` to such a registry must (distribution-spec "Pushing Manifests with Subject").
 */

/** 1: what refers to the image; 2: what refers to those. */
export const MAX_DEPTH = 2;
const COSIGN_SUFFIXES = ['sig', 'att', 'sbom'] as const;
const TAG_MAX = 128;

export interface Repository {
  readonly registry: string;
  readonly repository: string;
}

/** The referrers tag of a digest (distribution-spec "Referrers Tag Schema"): `<alg>-<encoded>`, truncated, tag-safe. */
export function referrersTag(digest: string): string {
  const colon = digest.indexOf(':');
  return `${digest.slice(0, colon).slice(0, 32)}-${digest.slice(colon + 1).slice(0, 64)}`.replace(
    /[^a-zA-Z0-9_.-]/g,
    '-',
  );
}

/** cosign's tags for a digest: `sha256-<hex>.sig`, `.att`, `.sbom` (those that fit in a tag). */
export function cosignTags(digest: string): string[] {
  const base = digest.replace(':', '-');
  return COSIGN_SUFFIXES.map((suffix) => `${base}.${suffix}`).filter((tag) => tag.length <= TAG_MAX);
}

/** What refers to one subject at the source. */
export interface Listing {
  readonly subject: string;
  /** Manifests whose `subject` is this digest, as the API or the referrers tag lists them. */
  readonly referrers: readonly Descriptor[];
  readonly via: 'api' | 'tag' | 'none';
  /** The source's referrers tag, kept to write verbatim at the destination. */
  readonly tag?: {
    readonly name: string;
    readonly bytes: Buffer;
    readonly mediaType: string;
    readonly atDestination: boolean;
  };
  /** cosign tags present at the source; `digest` is undefined only when the registry does not send one on HEAD. */
  readonly cosign: ReadonlyArray<{ readonly tag: string; readonly digest: string | undefined }>;
  readonly notes: readonly string[];
}

/**
 * Finds referrers at the source. Remembers, per run, which registries lack the referrers API (so each answers one
 * 404, not one per image) and each source repository's tag list (one paginated GET instead of a HEAD per possible
 * tag; Docker Hub answers a burst of HEADs with 429).
 */
export class ReferrerDiscovery {
  private readonly apiMissing = new Set<string>();
  private readonly destinationApi = new Map<string, Promise<boolean>>();
  private readonly tagLists = new Map<string, Promise<Set<string> | undefined>>();

  /** `access`: what to ask of the destination when reading it (`pull` for a plan, which may run read-only). */
  constructor(
    readonly source: ReferrerStore,
    readonly destination: ReferrerStore,
    readonly access: Access = 'push',
  ) {}

  async list(from: Repository, to: Repository, subject: string): Promise<Listing> {
    const notes: string[] = [];
    let referrers: readonly Descriptor[] | undefined;
    let tag: Listing['tag'];
    if (!this.apiMissing.has(from.registry)) {
      referrers = await this.source.listReferrers(from.registry, from.repository, subject);
      if (referrers === undefined) this.apiMissing.add(from.registry);
    }
    const via = referrers !== undefined ? 'api' : 'tag';
    if (referrers === undefined) {
      referrers = [];
      const name = referrersTag(subject);
      const head = await this.resolveTag(from, name);
      if (head) {
        // Unchanged since the last run: read it from the destination, which costs no Docker Hub pull.
        const existing = await this.destination.headManifest(to.registry, to.repository, name, this.access);
        const atDestination = head.digest !== undefined && existing?.digest === head.digest;
        const fetched = atDestination
          ? await this.destination.getManifest(to.registry, to.repository, head.digest!, this.access)
          : await this.source.getManifest(from.registry, from.repository, head.digest ?? name);
        const index = parseIndex(fetched.bytes, fetched.mediaType, from);
        if (index) {
          referrers = index;
          tag = { name, bytes: fetched.bytes, mediaType: fetched.mediaType ?? MediaType.OciIndex, atDestination };
        } else {
          // distribution-spec: a referrers tag that is not a valid image index means no referrers.
          notes.push(
            `${from.registry}/${from.repository}:${name} is not an image index, so it lists no referrers; left alone`,
          );
        }
      }
    }
    const cosign: Array<{ tag: string; digest: string | undefined }> = [];
    for (const name of cosignTags(subject)) {
      const head = await this.resolveTag(from, name);
      if (head) cosign.push({ tag: name, digest: head.digest });
    }
    return {
      subject,
      referrers: referrers.filter((d) => d.digest !== subject),
      via: via === 'tag' && !tag ? 'none' : via,
      ...(tag ? { tag } : {}),
      cosign,
      notes,
    };
  }

  /** Whether the destination registry has the referrers API (then it indexes pushed manifests by `subject` itself). */
  destinationHasApi(to: Repository, subject: string): Promise<boolean> {
    let known = this.destinationApi.get(to.registry);
    if (!known) {
      known = this.destination
        .listReferrers(to.registry, to.repository, subject, 'push')
        .then((listed) => listed !== undefined);
      this.destinationApi.set(to.registry, known);
      known.catch(() => this.destinationApi.get(to.registry) === known && this.destinationApi.delete(to.registry));
    }
    return known;
  }

  /** HEAD a tag, unless the repository's tag list says it is not there. */
  private async resolveTag(from: Repository, tag: string): Promise<ManifestHead | undefined> {
    const tags = await this.tagsOf(from);
    if (tags && !tags.has(tag)) return undefined;
    return this.source.headManifest(from.registry, from.repository, tag);
  }

  private tagsOf(from: Repository): Promise<Set<string> | undefined> {
    const key = `${from.registry}/${from.repository}`;
    let tags = this.tagLists.get(key);
    if (!tags) {
      // Some registries refuse tag lists to ordinary credentials (ACR): then every candidate tag gets a HEAD instead.
      tags = this.source.listTags(from.registry, from.repository).then(
        (list) => new Set(list),
        () => undefined,
      );
      this.tagLists.set(key, tags);
    }
    return tags;
  }
}

/** The descriptors of an image index, or undefined when the bytes are something else. */
export function parseIndex(
  bytes: Buffer,
  mediaType: string | undefined,
  where: Repository,
): readonly Descriptor[] | undefined {
  try {
    const manifest = parseManifest(bytes, mediaType, where);
    return manifest.kind === 'index' ? manifest.manifests : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The plan's view of an image's referrers, found as a sync would find them: how many, and how many the destination
 * lacks (by digest; for cosign tags, the tag). Costs the listings, a GET of a multi-arch index (from the
 * destination when it is unchanged there), and one HEAD per referrer.
 */
export async function planReferrers(
  discovery: ReferrerDiscovery,
  task: ImageTask,
  entry: PlanEntry,
): Promise<PlanEntry> {
  if (entry.status === 'failed' || !entry.sourceDigest || !entry.digest) return entry;
  const { source, destination } = discovery;
  const from = { registry: task.source.registry, repository: task.source.repository };
  const to = { registry: task.destination.registry, repository: task.destination.repository };
  const counts = { found: 0, missing: 0, skipped: 0 };
  const found = new Set<string>();
  try {
    const subjects: string[] = [];
    if (entry.digest === entry.sourceDigest) subjects.push(entry.sourceDigest);
    else {
      const listing = await discovery.list(from, to, entry.sourceDigest);
      counts.skipped = new Set([...listing.referrers.map((d) => d.digest), ...listing.cosign.map((c) => c.tag)]).size;
    }
    const fetched =
      entry.status === 'unchanged'
        ? await destination.getManifest(to.registry, to.repository, entry.digest, 'pull')
        : await source.getManifest(from.registry, from.repository, entry.sourceDigest);
    const manifest = parseManifest(fetched.bytes, fetched.mediaType, entry.status === 'unchanged' ? to : from);
    if (manifest.kind === 'index') {
      const children =
        entry.status === 'unchanged'
          ? manifest.manifests
          : filterIndex(fetched.bytes, manifest.manifests, task.platforms, task.source).children;
      subjects.push(...children.map((c) => c.digest));
    }
    const listed = new Set<string>();
    let level = subjects;
    for (let depth = 1; depth <= MAX_DEPTH && level.length > 0; depth++) {
      const next: string[] = [];
      for (const subject of level) {
        if (listed.has(subject)) continue;
        listed.add(subject);
        const listing = await discovery.list(from, to, subject);
        for (const d of listing.referrers) {
          if (found.has(d.digest)) continue;
          if (!(await destination.headManifest(to.registry, to.repository, d.digest, 'pull'))) {
            // A stale entry (listed, but deleted at the source) is not something a sync would copy.
            if (!(await source.headManifest(from.registry, from.repository, d.digest))) continue;
            counts.missing++;
          }
          found.add(d.digest);
          next.push(d.digest);
        }
        for (const c of listing.cosign) {
          found.add(c.digest ?? c.tag);
          const there = await destination.headManifest(to.registry, to.repository, c.tag, 'pull');
          if (!there || there.digest !== c.digest) counts.missing++;
          if (c.digest) next.push(c.digest);
        }
      }
      level = next;
    }
  } catch (error) {
    return {
      ...entry,
      status: 'failed',
      error: {
        code: isSwrSyncError(error) ? error.code : 'ERR_UNEXPECTED',
        message: `${entry.destination}: listing what refers to it: ${describeError(error)}`,
      },
    };
  }
  counts.found = found.size;
  return { ...entry, referrers: counts };
}

/** The plan's entries with their referrers, for the tasks that ask for them (entries in task order). */
export async function planReferrersOf(
  tasks: readonly ImageTask[],
  entries: readonly PlanEntry[],
  clients: { readonly source: ReferrerStore; readonly destination: ReferrerStore },
  concurrency = 8,
): Promise<PlanEntry[]> {
  const discovery = new ReferrerDiscovery(clients.source, clients.destination, 'pull');
  const limiter = new Limiter(concurrency);
  return Promise.all(
    entries.map((entry, i) =>
      tasks[i]?.referrers ? limiter.run(() => planReferrers(discovery, tasks[i]!, entry)) : entry,
    ),
  );
}
