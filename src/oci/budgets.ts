import { SwrSyncError } from '../errors.js';

/**
 * Every size a registry controls, bounded here and nowhere else (docs/security.md, "Budgets"). A registry is not
 * trusted: whatever it sends, a run's memory and work stay bounded, and an answer past a budget fails the image (or
 * the rule) it belongs to with `ERR_LIMIT_EXCEEDED`, naming the image and the budget. The values are far above what
 * real registries and images need (Docker Hub, GHCR, ECR, SWR, Harbor) and far below what would hurt a CI runner.
 */
export const BUDGETS = {
  /** Bytes of an error response read for its message; the rest is discarded unread (the connection is closed). */
  errorBodyBytes: 16 * 1024,
  /** Bytes of one manifest or index (distribution refuses larger ones on push; 4 MiB is the common limit). */
  manifestBytes: 4 * 1024 * 1024,
  /** Bytes of a token server's answer. */
  tokenResponseBytes: 1024 * 1024,
  /** Bytes of one page of a tag list. */
  tagPageBytes: 16 * 1024 * 1024,
  /** Tags of one repository, all pages together. */
  tagTotal: 250_000,
  /** Pages of one tag list (`Link: <…>; rel="next"`); a page already seen is a loop, refused at once. */
  tagPages: 5_000,
  /** Bytes of one page of a referrers list (it is an image index). */
  referrerPageBytes: 4 * 1024 * 1024,
  /** Referrers of one subject, all pages together. */
  referrerTotal: 1_000,
  /** Pages of one referrers list. */
  referrerPages: 100,
  /** Referrer copies (signatures, attestations, SBOMs) of one image at once. */
  referrerConcurrency: 4,
  /** Levels of indexes inside an index. */
  indexDepth: 4,
  /** Entries of one index. */
  indexChildren: 1_000,
  /** Manifests of one image, every level of nested indexes together. */
  manifestsPerImage: 10_000,
  /**
   * Bytes of child manifests read or held in memory at once, all images together (one larger manifest may pass
   * alone). Each byte held costs about four in memory (the bytes, their text, the parsed object).
   */
  manifestMemoryBytes: 8 * 1024 * 1024,
  /** Children of one index copied at once (at every level of nesting). */
  indexConcurrency: 4,
  /** Image configs kept in memory after use, to upload again without a download (bytes, all images together). */
  configCacheBytes: 16 * 1024 * 1024,
  /**
   * Milliseconds to receive one whole document (manifest, tag or referrers page, token): a body that drips a byte
   * now and then is never silent long enough for the stall timeout, so it has a deadline of its own.
   */
  documentMs: 120_000,
  /** Redirects followed by one blob read. */
  redirects: 5,
} as const;

/** The name of each budget as documentation and error messages give it. */
export type Budget = keyof typeof BUDGETS;

/**
 * The error for an answer past a budget: `what` names the image, repository or list it was reading ("tag list of
 * reg.example/team/app"), and the message names the budget and its value.
 */
export function limitExceeded(
  budget: Budget,
  what: string,
  where: { registry?: string; repository?: string } = {},
): SwrSyncError {
  return new SwrSyncError(
    'ERR_LIMIT_EXCEEDED',
    `${what}: exceeds the ${budget} budget of ${BUDGETS[budget].toLocaleString('en-US')} (see docs/security.md)`,
    {
      ...(where.registry !== undefined ? { registry: where.registry } : {}),
      ...(where.repository !== undefined ? { repository: where.repository } : {}),
    },
  );
}
