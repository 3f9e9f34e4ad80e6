import type { ReferrerStore } from '../client/image-store.js';
import type { Access, ManifestHead } from '../client/registry-client.js';
import { describeError, isSwrSyncError } from '../errors.js';
import { shortDigest } from '../oci/digest.js';
import { isIndexMediaType, MediaType, parseManifest, type Descriptor } from '../oci/manifest.js';
import { Reference } from '../oci/reference.js';
import type { ImageTask } from '../plan/image-task.js';
import type { PlanEntry } from '../plan/planner.js';
import type { BlobCounts, ImageResult, ReferrerCounts } from '../results/image-result.js';
import type { CopyEngine } from './copy-engine.js';
import { Limiter } from './limiter.js';
import { filterIndex } from './platform-filter.js';

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
const MAX_DEPTH = 2;
const COSIGN_SUFFIXES = ['sig', 'att', 'sbom'] as const;
const TAG_MAX = 128;

interface Repository {
  readonly registry: string;
  readonly repository: string;
}

/** The referrers tag of a digest (distribution-spec "Referrers Tag Schema"): `<alg>-<encoded>`, truncated, tag-safe. */
export function referrersTag(digest: string): string {
  const colon = digest.indexOf(':');
  return `${digest.slice(0, colon).slice(0, 32)}-${digest.slice(colon + 1).slice(0, 64)}`.replace(/[^a-zA-Z0-9_.-]/g, '-');
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
  readonly tag?: { readonly name: string; readonly bytes: Buffer; readonly mediaType: string; readonly atDestination: boolean };
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
  constructor(readonly source: ReferrerStore, readonly destination: ReferrerStore, readonly access: Access = 'push') {}

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
          notes.push(`${from.registry}/${from.repository}:${name} is not an image index, so it lists no referrers; left alone`);
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
      known = this.destination.listReferrers(to.registry, to.repository, subject, 'push').then((listed) => listed !== undefined);
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
      tags = this.source.listTags(from.registry, from.repository).then((list) => new Set(list), () => undefined);
      this.tagLists.set(key, tags);
    }
    return tags;
  }
}

export interface ReferrerCopierOptions {
  readonly engine: CopyEngine;
  readonly source: ReferrerStore;
  readonly destination: ReferrerStore;
  /** Subjects of one image examined at once. @default 4 */
  readonly concurrency?: number;
}

/** A referrer's copy: done (or already there), failed, or listed but absent from the source. */
type Outcome = 'ok' | 'failed' | 'missing';

/** What one image's referrer walk did. */
class Walk {
  readonly found = new Set<string>();
  readonly counts: ReferrerCounts = { found: 0, copied: 0, tags: 0, skipped: 0 };
  bytesTransferred = 0;
  bytesSkipped = 0;
  readonly blobs: BlobCounts = { copied: 0, mounted: 0, present: 0 };
  readonly failures: Array<{ code: string; message: string }> = [];
  readonly notes: string[] = [];
  readonly listed = new Set<string>();
  readonly copies = new Map<string, Promise<Outcome>>();
  constructor(readonly from: Repository, readonly to: Repository) {}

  fail(error: unknown, doing: string): void {
    this.failures.push({ code: isSwrSyncError(error) ? error.code : 'ERR_UNEXPECTED', message: `${doing}: ${describeError(error)}` });
  }

  absorb(result: ImageResult): void {
    this.bytesTransferred += result.bytesTransferred;
    this.bytesSkipped += result.bytesSkipped;
    this.blobs.copied += result.blobs.copied;
    this.blobs.mounted += result.blobs.mounted;
    this.blobs.present += result.blobs.present;
  }
}

/**
 * Copies what refers to an image after the image itself, with the run's CopyEngine (so blobs are deduplicated and
 * mounted like the images'). Each referrer is copied by digest; a rerun costs the listings and one HEAD per referrer.
 * A referrer that cannot be copied fails the image's result (the image itself is in place; a rerun completes it).
 */
export class ReferrerCopier {
  readonly discovery: ReferrerDiscovery;
  private readonly options: ReferrerCopierOptions;

  constructor(options: ReferrerCopierOptions) {
    this.options = options;
    this.discovery = new ReferrerDiscovery(options.source, options.destination);
  }

  async copy(src: Reference, dst: Reference, result: ImageResult): Promise<ImageResult> {
    if (result.status === 'failed' || !result.digest || !result.sourceDigest) return result;
    const started = Date.now();
    const walk = new Walk({ registry: src.registry, repository: src.repository }, { registry: dst.registry, repository: dst.repository });
    const subjects: string[] = [];
    try {
      if (result.digest === result.sourceDigest) subjects.push(result.sourceDigest);
      else await this.skipFilteredIndex(walk, result.sourceDigest, result.digest);
      subjects.push(...await childrenAtDestination(this.options.destination, walk.to, result.digest, result.mediaType));
    } catch (error) {
      walk.fail(error, `reading ${dst.name}@${result.digest}`);
    }
    await this.walk(walk, subjects, 1);
    walk.counts.found = walk.found.size;

    const note = [result.note, ...walk.notes].filter((n): n is string => n !== undefined && n !== '').join('; ');
    const merged: ImageResult = {
      ...result,
      bytesTransferred: result.bytesTransferred + walk.bytesTransferred,
      bytesSkipped: result.bytesSkipped + walk.bytesSkipped,
      blobs: {
        copied: result.blobs.copied + walk.blobs.copied,
        mounted: result.blobs.mounted + walk.blobs.mounted,
        present: result.blobs.present + walk.blobs.present,
      },
      ...(note ? { note } : {}),
      referrers: walk.counts,
      durationMs: result.durationMs + (Date.now() - started),
    };
    if (walk.failures.length === 0) return merged;
    const [first] = walk.failures;
    const more = walk.failures.length > 1 ? ` (and ${walk.failures.length - 1} more)` : '';
    return {
      ...merged,
      status: 'failed',
      error: {
        code: first!.code,
        message: `${dst}: the image is in place (${shortDigest(result.digest)}), but what refers to it was not all copied: ${first!.message}${more}`,
      },
    };
  }

  /**
   * A platform filter wrote a new index, so the destination lacks the digest the source index's referrers name:
   * copying them would leave signatures of nothing. They are counted and left out with a note.
   */
  private async skipFilteredIndex(walk: Walk, sourceDigest: string, digest: string): Promise<void> {
    const listing = await this.discovery.list(walk.from, walk.to, sourceDigest);
    const skipped = new Set([...listing.referrers.map((d) => d.digest), ...listing.cosign.map((c) => c.tag)]).size;
    walk.counts.skipped += skipped;
    if (skipped > 0) {
      walk.notes.push(`${skipped} referrer${skipped === 1 ? '' : 's'} of the source index ${shortDigest(sourceDigest)} not copied: they refer to that index, and the platform filter wrote ${shortDigest(digest)} instead`);
    }
  }

  private async walk(walk: Walk, subjects: readonly string[], depth: number): Promise<void> {
    const fresh = [...new Set(subjects)].filter((s) => !walk.listed.has(s));
    for (const s of fresh) walk.listed.add(s);
    const next: string[] = [];
    const limiter = new Limiter(this.options.concurrency ?? 4);
    await Promise.all(fresh.map((subject) => limiter.run(async () => {
      let listing: Listing;
      try {
        listing = await this.discovery.list(walk.from, walk.to, subject);
      } catch (error) {
        walk.fail(error, `listing what refers to ${walk.from.registry}/${walk.from.repository}@${subject}`);
        return;
      }
      walk.notes.push(...listing.notes);
      const outcomes = await Promise.all(listing.referrers.map((d) => this.copyByDigest(walk, d.digest)));
      await Promise.all(listing.cosign.map((c) => this.copyCosignTag(walk, c.tag, c.digest)));
      const present = listing.referrers.filter((_, i) => outcomes[i] === 'ok');
      const stale = outcomes.filter((o) => o === 'missing').length;
      if (stale > 0) {
        // Deleted without updating the list (the tag schema leaves that to clients): nothing to copy, not a failure.
        walk.notes.push(`${stale} referrer${stale === 1 ? '' : 's'} of ${shortDigest(subject)} listed ${listing.tag ? `in ${listing.tag.name}` : 'by the referrers API'} but not at the source (a stale entry): not copied`);
      }
      if (!outcomes.includes('failed') && present.length > 0) {
        try {
          // Written only after every referrer it lists is there (a registry refuses an index with missing entries).
          if (listing.tag && stale === 0) {
            if (!listing.tag.atDestination) {
              await this.options.destination.putManifest(walk.to.registry, walk.to.repository, listing.tag.name, listing.tag.bytes, listing.tag.mediaType);
              walk.counts.tags++;
            }
          } else if (listing.tag || !(await this.discovery.destinationHasApi(walk.to, subject))) {
            if (await this.extendReferrersTag(walk, subject, present)) walk.counts.tags++;
          }
        } catch (error) {
          walk.fail(error, `writing ${walk.to.registry}/${walk.to.repository}:${referrersTag(subject)}`);
        }
      }
      if (depth < MAX_DEPTH) next.push(...present.map((d) => d.digest), ...listing.cosign.flatMap((c) => (c.digest ? [c.digest] : [])));
    })));
    if (next.length > 0) await this.walk(walk, next, depth + 1);
  }

  private copyByDigest(walk: Walk, digest: string): Promise<Outcome> {
    let copy = walk.copies.get(digest);
    if (!copy) {
      copy = this.options.engine.copy(
        new Reference(walk.from.registry, walk.from.repository, undefined, digest),
        new Reference(walk.to.registry, walk.to.repository, undefined, digest),
      ).then((result) => {
        if (result.status === 'failed' && result.error?.code === 'ERR_NOT_FOUND') return 'missing';
        walk.found.add(digest);
        return this.tally(walk, result);
      });
      walk.copies.set(digest, copy);
    }
    return copy;
  }

  /** The cosign tag's manifest and the tag, written last by the engine as for any image. */
  private async copyCosignTag(walk: Walk, tag: string, digest: string | undefined): Promise<Outcome> {
    walk.found.add(digest ?? tag);
    const result = await this.options.engine.copy(
      new Reference(walk.from.registry, walk.from.repository, tag, digest),
      new Reference(walk.to.registry, walk.to.repository, tag, undefined),
    );
    if (result.status === 'copied') walk.counts.tags++;
    const ok = this.tally(walk, result);
    if (digest && !walk.copies.has(digest)) walk.copies.set(digest, Promise.resolve(ok));
    return ok;
  }

  private tally(walk: Walk, result: ImageResult): Outcome {
    walk.absorb(result);
    if (result.status === 'copied') walk.counts.copied++;
    if (result.status !== 'failed') return 'ok';
    walk.failures.push(result.error ?? { code: 'ERR_UNEXPECTED', message: `${result.source}: copy failed` });
    return 'failed';
  }

  /**
   * The destination's referrers tag, created or extended with the referrers it does not list yet (descriptors as
   * the source's API listed them: `artifactType` and annotations included, as the tag schema asks). Returns whether
   * it was written.
   */
  private async extendReferrersTag(walk: Walk, subject: string, referrers: readonly Descriptor[]): Promise<boolean> {
    const { destination } = this.options;
    const { registry, repository } = walk.to;
    const name = referrersTag(subject);
    let index: Record<string, unknown> & { manifests: Array<{ digest: string }> } = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
    const existing = await destination.headManifest(registry, repository, name, 'push');
    if (existing) {
      const fetched = await destination.getManifest(registry, repository, existing.digest ?? name, 'push');
      if (!parseIndex(fetched.bytes, fetched.mediaType, walk.to)) {
        // distribution-spec: when the tag holds something other than an index, report it and leave it.
        walk.notes.push(`${registry}/${repository}:${name} is not an image index; not extended with the copied referrers`);
        return false;
      }
      index = JSON.parse(fetched.bytes.toString('utf8')) as typeof index;
    }
    const listed = new Set(index.manifests.map((m) => m.digest));
    const missing = referrers.filter((d) => !listed.has(d.digest));
    if (missing.length === 0) return false;
    index.manifests.push(...missing);
    await destination.putManifest(registry, repository, name, Buffer.from(JSON.stringify(index)), MediaType.OciIndex);
    return true;
  }
}

/** The children of the index stored at the destination (after a platform filter: the kept ones); [] for a manifest. */
async function childrenAtDestination(destination: ReferrerStore, to: Repository, digest: string, mediaType: string | undefined): Promise<string[]> {
  if (mediaType && !isIndexMediaType(mediaType)) return [];
  const fetched = await destination.getManifest(to.registry, to.repository, digest, 'push');
  const manifest = parseManifest(fetched.bytes, fetched.mediaType, to);
  return manifest.kind === 'index' ? manifest.manifests.map((m) => m.digest) : [];
}

/** The descriptors of an image index, or undefined when the bytes are something else. */
function parseIndex(bytes: Buffer, mediaType: string | undefined, where: Repository): readonly Descriptor[] | undefined {
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
export async function planReferrers(discovery: ReferrerDiscovery, task: ImageTask, entry: PlanEntry): Promise<PlanEntry> {
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
    const fetched = entry.status === 'unchanged'
      ? await destination.getManifest(to.registry, to.repository, entry.digest, 'pull')
      : await source.getManifest(from.registry, from.repository, entry.sourceDigest);
    const manifest = parseManifest(fetched.bytes, fetched.mediaType, entry.status === 'unchanged' ? to : from);
    if (manifest.kind === 'index') {
      const children = entry.status === 'unchanged' ? manifest.manifests : filterIndex(fetched.bytes, manifest.manifests, task.platforms, task.source).children;
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
    return { ...entry, status: 'failed', error: { code: isSwrSyncError(error) ? error.code : 'ERR_UNEXPECTED', message: `${entry.destination}: listing what refers to it: ${describeError(error)}` } };
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
  return Promise.all(entries.map((entry, i) => (tasks[i]?.referrers ? limiter.run(() => planReferrers(discovery, tasks[i]!, entry)) : entry)));
}
