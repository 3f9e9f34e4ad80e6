import type { ReferrerStore } from '../store/image-store.js';
import { describeError, isSwrSyncError } from '../errors.js';
import { BUDGETS, limitExceeded } from '../oci/budgets.js';
import { shortDigest } from '../oci/digest.js';
import { isIndexMediaType, MediaType, parseManifest, type Descriptor } from '../oci/manifest.js';
import { Reference } from '../oci/reference.js';
import type { BlobCounts, ImageResult, ReferrerCounts } from './image-result.js';
import type { CopyEngine } from './copy-engine.js';
import { Limiter } from '../util/limiter.js';
import {
  MAX_DEPTH,
  parseIndex,
  referrersTag,
  type Listing,
  ReferrerDiscovery,
  type Repository,
} from '../plan/referrers.js';

/**
 * Copies what refers to an image (signatures, attestations, SBOMs) as `plan/referrers.ts` finds it: by digest, so
 * signatures still verify at the destination, then the referrers tag and cosign tags.
 */

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
  /** Referrer copies of this image at once, whatever the number a registry lists (`referrerConcurrency`). */
  readonly copying = new Limiter(BUDGETS.referrerConcurrency);
  /** Set once the image's referrers passed `referrerTotal`: the rest are not copied. */
  overBudget = false;
  constructor(
    readonly from: Repository,
    readonly to: Repository,
  ) {}

  fail(error: unknown, doing: string): void {
    this.failures.push({
      code: isSwrSyncError(error) ? error.code : 'ERR_UNEXPECTED',
      message: `${doing}: ${describeError(error)}`,
    });
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
    const walk = new Walk(
      { registry: src.registry, repository: src.repository },
      { registry: dst.registry, repository: dst.repository },
    );
    const subjects: string[] = [];
    try {
      if (result.digest === result.sourceDigest) subjects.push(result.sourceDigest);
      else await this.skipFilteredIndex(walk, result.sourceDigest, result.digest);
      subjects.push(
        ...(await childrenAtDestination(this.options.destination, walk.to, result.digest, result.mediaType)),
      );
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
      walk.notes.push(
        `${skipped} referrer${skipped === 1 ? '' : 's'} of the source index ${shortDigest(sourceDigest)} not copied: they refer to that index, and the platform filter wrote ${shortDigest(digest)} instead`,
      );
    }
  }

  private async walk(walk: Walk, subjects: readonly string[], depth: number): Promise<void> {
    const fresh = [...new Set(subjects)].filter((s) => !walk.listed.has(s));
    for (const s of fresh) walk.listed.add(s);
    const next: string[] = [];
    const limiter = new Limiter(this.options.concurrency ?? 4);
    await Promise.all(
      fresh.map((subject) =>
        limiter.run(async () => {
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
            walk.notes.push(
              `${stale} referrer${stale === 1 ? '' : 's'} of ${shortDigest(subject)} listed ${listing.tag ? `in ${listing.tag.name}` : 'by the referrers API'} but not at the source (a stale entry): not copied`,
            );
          }
          if (!outcomes.includes('failed') && present.length > 0) {
            try {
              // Written only after every referrer it lists is there (a registry refuses an index with missing entries).
              if (listing.tag && stale === 0) {
                if (!listing.tag.atDestination) {
                  await this.options.destination.putManifest(
                    walk.to.registry,
                    walk.to.repository,
                    listing.tag.name,
                    listing.tag.bytes,
                    listing.tag.mediaType,
                  );
                  walk.counts.tags++;
                }
              } else if (listing.tag || !(await this.discovery.destinationHasApi(walk.to, subject))) {
                if (await this.extendReferrersTag(walk, subject, present)) walk.counts.tags++;
              }
            } catch (error) {
              walk.fail(error, `writing ${walk.to.registry}/${walk.to.repository}:${referrersTag(subject)}`);
            }
          }
          if (depth < MAX_DEPTH)
            next.push(...present.map((d) => d.digest), ...listing.cosign.flatMap((c) => (c.digest ? [c.digest] : [])));
        }),
      ),
    );
    if (next.length > 0) await this.walk(walk, next, depth + 1);
  }

  private copyByDigest(walk: Walk, digest: string): Promise<Outcome> {
    let copy = walk.copies.get(digest);
    if (!copy) {
      // Every level of the walk together: referrers of referrers count too.
      if (walk.copies.size >= BUDGETS.referrerTotal) {
        if (!walk.overBudget)
          walk.fail(
            limitExceeded('referrerTotal', `referrers of ${walk.from.registry}/${walk.from.repository}`, walk.from),
            'copying what refers to the image',
          );
        walk.overBudget = true;
        return Promise.resolve('failed');
      }
      copy = walk.copying
        .run(() =>
          this.options.engine.copy(
            new Reference(walk.from.registry, walk.from.repository, undefined, digest),
            new Reference(walk.to.registry, walk.to.repository, undefined, digest),
          ),
        )
        .then((result) => {
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
    const result = await walk.copying.run(() =>
      this.options.engine.copy(
        new Reference(walk.from.registry, walk.from.repository, tag, digest),
        new Reference(walk.to.registry, walk.to.repository, tag, undefined),
      ),
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
    let index: Record<string, unknown> & { manifests: Array<{ digest: string }> } = {
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [],
    };
    const existing = await destination.headManifest(registry, repository, name, 'push');
    if (existing) {
      const fetched = await destination.getManifest(registry, repository, existing.digest ?? name, 'push');
      if (!parseIndex(fetched.bytes, fetched.mediaType, walk.to)) {
        // distribution-spec: when the tag holds something other than an index, report it and leave it.
        walk.notes.push(
          `${registry}/${repository}:${name} is not an image index; not extended with the copied referrers`,
        );
        return false;
      }
      index = JSON.parse(fetched.bytes.toString('utf8')) as typeof index;
    }
    const listed = new Set(index.manifests.map((m) => m.digest));
    const missing = referrers.filter((d) => !listed.has(d.digest));
    if (missing.length === 0) return false;
    for (const descriptor of missing) index.manifests.push(descriptor);
    await destination.putManifest(registry, repository, name, Buffer.from(JSON.stringify(index)), MediaType.OciIndex);
    return true;
  }
}

/** The children of the index stored at the destination (after a platform filter: the kept ones); [] for a manifest. */
async function childrenAtDestination(
  destination: ReferrerStore,
  to: Repository,
  digest: string,
  mediaType: string | undefined,
): Promise<string[]> {
  if (mediaType && !isIndexMediaType(mediaType)) return [];
  const fetched = await destination.getManifest(to.registry, to.repository, digest, 'push');
  const manifest = parseManifest(fetched.bytes, fetched.mediaType, to);
  return manifest.kind === 'index' ? manifest.manifests.map((m) => m.digest) : [];
}
