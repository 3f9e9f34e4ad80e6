import { z } from 'zod';
import { SwrSyncError } from '../errors.js';
import { BUDGETS, limitExceeded } from '../oci/budgets.js';
import { MediaType, parseManifest, type Descriptor } from '../oci/manifest.js';
import { display, nextPage, readLimited, type Access, type Exchange, type RegistryResponse } from './exchange.js';

/** What listing needs from the session: one authenticated, retried request. */
export interface ListingContext {
  exchange(op: Exchange): Promise<RegistryResponse>;
}

/** distribution-spec "Listing Tags": `{"name": …, "tags": [ … ]}`; `tags` may be null on an empty repository. */
const TAG_PAGE = z.object({ tags: z.array(z.string()).nullable().optional() });

/** JSON from a registry; the parser's own message (which quotes the text) is not kept. */
function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Tags of a repository, following `Link` pagination (distribution-spec "Listing Tags"). Every page is checked
 * against the spec's shape and the budgets (`tagPageBytes`, `tagTotal`, `tagPages`); a `Link` back to a page
 * already read is a loop, refused at once.
 */
export async function listTags(
  session: ListingContext,
  registry: string,
  repository: string,
  access: Access,
): Promise<string[]> {
  const where = { registry, repository };
  const what = `tag list of ${registry}/${repository}`;
  const tags: string[] = [];
  for await (const page of pages(session, {
    registry,
    repository,
    access,
    first: `/v2/${repository}/tags/list?n=1000`,
    what,
    budget: 'tagPages',
    expectFirst: [200, 404],
    expectLater: [200, 404],
  })) {
    if (page === undefined) return tags;
    const bytes = await readLimited(
      page.body,
      BUDGETS.tagPageBytes,
      () => limitExceeded('tagPageBytes', `${what}: one page`, where),
      () => limitExceeded('documentMs', `${what}: one page`, where),
    );
    const parsed = TAG_PAGE.safeParse(parseJson(bytes));
    if (!parsed.success) {
      throw new SwrSyncError(
        'ERR_REGISTRY_RESPONSE',
        `${what}: the registry's answer is not {"tags": [strings]} (distribution-spec "Listing Tags")`,
        where,
      );
    }
    const listed = parsed.data.tags ?? [];
    if (tags.length + listed.length > BUDGETS.tagTotal) throw limitExceeded('tagTotal', what, where);
    // One at a time: a spread of a 100,000-element page overflows the call stack.
    for (const tag of listed) tags.push(tag);
  }
  return tags;
}

/**
 * Referrers of a manifest (distribution-spec v1.1 "Listing Referrers"): descriptors of the manifests in this
 * repository whose `subject` is `digest`, following `Link` pagination within the budgets (`referrerPageBytes`,
 * `referrerTotal`, `referrerPages`). Undefined when the registry answers 404: a registry with the API never does,
 * so the caller falls back to the referrers tag schema (`sha256-<hex>`).
 */
export async function listReferrers(
  session: ListingContext,
  registry: string,
  repository: string,
  digest: string,
  access: Access,
): Promise<Descriptor[] | undefined> {
  const where = { registry, repository };
  const what = `referrers list of ${display(registry, repository, digest)}`;
  const referrers: Descriptor[] = [];
  let first = true;
  for await (const page of pages(session, {
    registry,
    repository,
    access,
    first: `/v2/${repository}/referrers/${digest}`,
    what,
    budget: 'referrerPages',
    expectFirst: [200, 404],
    expectLater: [200],
    headers: { accept: MediaType.OciIndex },
  })) {
    if (page === undefined) return first ? undefined : referrers;
    first = false;
    const bytes = await readLimited(
      page.body,
      BUDGETS.referrerPageBytes,
      () => limitExceeded('referrerPageBytes', `${what}: one page`, where),
      () => limitExceeded('documentMs', `${what}: one page`, where),
    );
    // Parsing validates every descriptor, its digest included (ERR_INVALID_DIGEST).
    const index = parseManifest(bytes, MediaType.OciIndex, where);
    if (index.kind !== 'index') throw new SwrSyncError('ERR_REGISTRY_RESPONSE', `${what} is not an image index`, where);
    if (referrers.length + index.manifests.length > BUDGETS.referrerTotal)
      throw limitExceeded('referrerTotal', what, where);
    for (const descriptor of index.manifests) referrers.push(descriptor);
  }
  return referrers;
}

/** One paginated list: where it starts, what it is called in errors, its page budget and expected statuses. */
interface PagedList {
  registry: string;
  repository: string;
  access: Access;
  first: string;
  what: string;
  budget: 'tagPages' | 'referrerPages';
  expectFirst: number[];
  expectLater: number[];
  headers?: Record<string, string>;
}

/**
 * The pages of a `Link`-paginated list: each response in turn (undefined for a 404), at most `budget` pages,
 * refusing a `Link` to a page already read.
 */
async function* pages(session: ListingContext, list: PagedList): AsyncGenerator<RegistryResponse | undefined> {
  const { registry, repository, access, what, budget, headers } = list;
  const where = { registry, repository };
  const seen = new Set<string>();
  let target: string | undefined = list.first;
  for (let page = 0; target !== undefined; page++) {
    if (page >= BUDGETS[budget]) throw limitExceeded(budget, what, where);
    const res: RegistryResponse = await session.exchange({
      registry,
      repository,
      access,
      method: 'GET',
      target,
      ...(headers ? { headers } : {}),
      expect: page === 0 ? list.expectFirst : list.expectLater,
    });
    if (res.status === 404) {
      await res.body.dump();
      yield undefined;
      return;
    }
    seen.add(res.url.toString());
    const next = nextPage(res);
    yield res;
    if (next !== undefined && seen.has(new URL(next).toString())) {
      throw new SwrSyncError(
        'ERR_REGISTRY_RESPONSE',
        `${what}: the registry's Link header leads back to a page already read (a loop)`,
        where,
      );
    }
    target = next;
  }
}
