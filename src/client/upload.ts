import type { Readable } from 'node:stream';
import { isSwrSyncError, SwrSyncError } from '../errors.js';
import { isRetryable } from './retry.js';
import type { Endpoint } from './endpoint.js';
import { errorDetail, header, withQuery, type Exchange, type RegistryResponse } from './exchange.js';
import type { RegistryLimiter } from './rate-limit.js';

/** `auto`: one monolithic PUT per blob, chunked PATCH when a registry refuses that. */
export type UploadMode = 'auto' | 'monolithic' | 'chunked';

/** What the uploader needs from the session. */
export interface UploadContext {
  readonly limiter: RegistryLimiter;
  exchange(op: Exchange): Promise<RegistryResponse>;
  endpoint(registry: string, repository: string): Promise<Endpoint>;
}

/**
 * Pushing blobs (distribution-spec "Pushing blobs"): cross-repository mounts, monolithic uploads streamed with a
 * Content-Length, and chunked uploads for registries that refuse those.
 */
export class BlobUploader {
  constructor(
    private readonly context: UploadContext,
    readonly mode: UploadMode,
    readonly chunkSize: number,
    /** Blobs at least this large go up resumably (see `uploadResumable`). @default 32 MiB */
    readonly resumableFrom = RESUMABLE_MIN_BYTES,
    /** How often an upload that makes no progress is resumed before it fails. @default 3 */
    readonly retries = 3,
    readonly signal?: AbortSignal,
  ) {}

  /**
   * Cross-repository mount (distribution-spec "Mounting a blob from another repository"): 201 means the blob is
   * now in `repository`; 202 means the registry opened an ordinary upload session instead, whose location is
   * returned so the caller can upload into it without another POST.
   */
  async mountBlob(
    registry: string,
    repository: string,
    digest: string,
    from: string,
  ): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const res = await this.context.exchange({
      registry,
      repository,
      access: 'push',
      extraScopes: from === repository ? [] : [`repository:${from}:pull`],
      method: 'POST',
      target: `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      headers: { 'content-length': '0' },
      body: Buffer.alloc(0),
      expect: [201, 202],
    });
    await res.body.dump();
    if (res.status === 201) return { mounted: true };
    return { mounted: false, location: uploadLocation(res, registry, repository) };
  }

  /**
   * Uploads a blob whose digest and size are known: POST then one streaming monolithic PUT with Content-Length
   * (2 requests), falling back to chunked PATCH uploads when the registry refuses a monolithic PUT.
   * Blobs of `resumableFrom` bytes or more go up resumably instead (`uploadResumable`). `open(offset)` returns the
   * blob's bytes from `offset` (0 unless resuming) and is called once per attempt.
   */
  async uploadBlob(
    registry: string,
    repository: string,
    digest: string,
    size: number,
    open: (offset?: number) => Promise<Readable>,
    location?: string,
  ): Promise<void> {
    const endpoint = await this.context.endpoint(registry, repository);
    if (this.mode === 'chunked' || endpoint.chunkedOnly) {
      return this.uploadChunked(registry, repository, digest, size, open, location);
    }
    if (this.mode === 'auto' && size >= this.resumableFrom) {
      return this.uploadResumable(registry, repository, digest, size, open, location);
    }
    const start = location ?? (await this.startUpload(registry, repository)).location;
    const body = this.context.limiter.pace(registry, await open());
    let res: RegistryResponse;
    try {
      res = await this.context.exchange({
        registry,
        repository,
        access: 'push',
        method: 'PUT',
        target: withQuery(start, 'digest', digest),
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        body: () => body,
        expect: [201, 204, 400, 404, 405, 411, 413, 415, 501],
      });
    } catch (error) {
      body.destroy();
      throw error;
    }
    if (res.status === 201 || res.status === 204) {
      await res.body.dump();
      return;
    }
    const detail = await errorDetail(res);
    body.destroy();
    // distribution-spec: an upload session may expire or be lost (404 BLOB_UPLOAD_UNKNOWN); a new one can succeed.
    if (res.status === 404) {
      throw new SwrSyncError(
        'ERR_REGISTRY_RESPONSE',
        `${registry}/${repository}: upload session for ${digest} was lost (404 ${detail})`,
        { registry, repository, status: 404, retryable: true },
      );
    }
    // A digest the registry computed differently is not a reason to retry in chunks.
    if (res.status === 400 && /DIGEST_INVALID/.test(detail)) {
      throw new SwrSyncError(
        'ERR_DIGEST_MISMATCH',
        `${registry}/${repository}: the registry rejected blob ${digest}: ${detail}`,
        { registry, repository, status: 400, retryable: true },
      );
    }
    if (this.mode === 'monolithic') {
      throw new SwrSyncError(
        'ERR_REGISTRY_RESPONSE',
        `${registry}/${repository}: monolithic upload of ${digest} refused (${res.status} ${detail})`,
        { registry, repository, status: res.status },
      );
    }
    endpoint.chunkedOnly = true;
    await this.uploadChunked(registry, repository, digest, size, open);
  }

  /**
   * A large blob in one streamed PATCH (`Content-Range: <offset>-<size-1>`) then `PUT ?digest=` (distribution-spec
   * "Pushing a blob in chunks", with the rest of the blob as one chunk). When the PATCH fails mid-way, the registry
   * is asked where the session stands (`GET` on the upload URL; its `Range: 0-<last>` says what it kept) and the
   * upload goes on from there, re-reading the source from that offset. A registry that lost the session (404), as
   * distribution does when a PATCH is cut mid-body, gets a new one, from byte 0. Memory stays at a stream's buffers.
   */
  private async uploadResumable(
    registry: string,
    repository: string,
    digest: string,
    size: number,
    open: (offset?: number) => Promise<Readable>,
    existing?: string,
  ): Promise<void> {
    let location = existing ?? (await this.startUpload(registry, repository)).location;
    let offset = 0;
    let idle = 0;
    // The registry may hold every byte already (only the answer to the last PATCH was lost): straight to the PUT.
    while (offset < size) {
      const body = this.context.limiter.pace(registry, await open(offset));
      let failure: unknown;
      try {
        const res = await this.context.exchange({
          registry,
          repository,
          access: 'push',
          method: 'PATCH',
          target: location,
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(size - offset),
            'content-range': `${offset}-${size - 1}`,
          },
          body: () => body,
          expect: [202, 404, 416],
        });
        if (res.status === 202) {
          await res.body.dump();
          location = uploadLocation(res, registry, repository);
          break;
        }
        failure = new SwrSyncError(
          'ERR_REGISTRY_RESPONSE',
          `${registry}/${repository}: PATCH of ${digest} from byte ${offset} answered ${res.status} ${await errorDetail(res)}`,
          { registry, repository, status: res.status, retryable: true },
        );
      } catch (error) {
        // The body's own failure (the source, a digest mismatch) or a cancelled run is not the upload's to resume.
        if (this.signal?.aborted || bodyError(error) !== undefined || !isRetryable(error))
          throw bodyError(error) ?? error;
        failure = error;
      } finally {
        body.destroy();
      }
      const status = await this.uploadStatus(registry, repository, location);
      const next = status ?? { location: (await this.startUpload(registry, repository)).location, offset: 0 };
      if (next.offset > offset) idle = 0;
      else if (++idle > this.retries) throw failure;
      location = next.location;
      offset = next.offset;
    }
    await this.completeUpload(registry, repository, location, digest);
  }

  /** Closes an upload session whose bytes are all sent: `PUT <location>?digest=` with an empty body. */
  private async completeUpload(registry: string, repository: string, location: string, digest: string): Promise<void> {
    const res = await this.context.exchange({
      registry,
      repository,
      access: 'push',
      method: 'PUT',
      target: withQuery(location, 'digest', digest),
      headers: { 'content-length': '0' },
      body: Buffer.alloc(0),
      expect: [201, 204],
    });
    await res.body.dump();
  }

  /**
   * Where an upload session stands (distribution-spec "Resuming an upload"? — `GET` on the location answers 204 with
   * `Range: 0-<last byte>` and a fresh `Location`); undefined when the registry no longer knows the session.
   */
  private async uploadStatus(
    registry: string,
    repository: string,
    location: string,
  ): Promise<{ location: string; offset: number } | undefined> {
    const res = await this.context.exchange({
      registry,
      repository,
      access: 'push',
      method: 'GET',
      target: location,
      expect: [200, 204, 404],
    });
    await res.body.dump();
    if (res.status === 404) return undefined;
    const range = /^(?:bytes=)?0-(\d+)$/.exec(header(res.headers, 'range')?.trim() ?? '');
    return {
      location: header(res.headers, 'location') ? uploadLocation(res, registry, repository) : location,
      offset: range ? Number(range[1]) + 1 : 0,
    };
  }

  private async startUpload(registry: string, repository: string): Promise<{ location: string; minChunk: number }> {
    const res = await this.context.exchange({
      registry,
      repository,
      access: 'push',
      method: 'POST',
      target: `/v2/${repository}/blobs/uploads/`,
      headers: { 'content-length': '0' },
      body: Buffer.alloc(0),
      expect: [202],
    });
    await res.body.dump();
    return {
      location: uploadLocation(res, registry, repository),
      minChunk: Number(header(res.headers, 'oci-chunk-min-length') ?? '0'),
    };
  }

  /** Chunked upload (distribution-spec "Pushing a blob in chunks"): PATCHes with Content-Range, then PUT ?digest=. */
  private async uploadChunked(
    registry: string,
    repository: string,
    digest: string,
    size: number,
    open: () => Promise<Readable>,
    existing?: string,
  ): Promise<void> {
    const session =
      existing === undefined ? await this.startUpload(registry, repository) : { location: existing, minChunk: 0 };
    const chunkSize = Math.max(this.chunkSize, session.minChunk || 0);
    let location = session.location;
    let offset = 0;
    const body = this.context.limiter.pace(registry, await open());
    try {
      for await (const chunk of chunks(body, chunkSize)) {
        const res = await this.context.exchange({
          registry,
          repository,
          access: 'push',
          method: 'PATCH',
          target: location,
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(chunk.length),
            'content-range': `${offset}-${offset + chunk.length - 1}`,
          },
          body: chunk,
          expect: [202],
        });
        await res.body.dump();
        location = uploadLocation(res, registry, repository);
        offset += chunk.length;
      }
    } finally {
      body.destroy();
    }
    if (offset !== size) {
      throw new SwrSyncError('ERR_SIZE_MISMATCH', `blob ${digest}: expected ${size} bytes, found ${offset}`, {
        registry,
        repository,
        retryable: true,
      });
    }
    await this.completeUpload(registry, repository, location, digest);
  }
}

/** Resumable uploads from this size on: below it a restart costs little and a monolithic PUT saves a round trip. */
export const RESUMABLE_MIN_BYTES = 32 * 1024 * 1024;

/** The typed error of the request body itself (undici wraps it in the request's failure), if that is what failed. */
function bodyError(error: unknown): SwrSyncError | undefined {
  let e = (error as { cause?: unknown } | undefined)?.cause;
  for (let depth = 0; e && depth < 4; depth++) {
    if (isSwrSyncError(e)) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The absolute URL of an upload session from a response's `Location` (relative to the request's URL). */
export function uploadLocation(res: RegistryResponse, registry: string, repository: string): string {
  const location = header(res.headers, 'location');
  if (!location) {
    throw new SwrSyncError(
      'ERR_REGISTRY_RESPONSE',
      `${registry}/${repository}: upload response ${res.status} has no Location header`,
      { registry, repository, status: res.status },
    );
  }
  return new URL(location, res.url).toString();
}

/** Splits a stream into Buffers of `size` bytes (the last may be shorter); memory stays at one chunk. */
export async function* chunks(stream: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let length = 0;
  for await (const data of stream) {
    let chunk = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    while (length + chunk.length >= size) {
      const take = size - length;
      parts.push(chunk.subarray(0, take));
      yield Buffer.concat(parts);
      chunk = chunk.subarray(take);
      parts = [];
      length = 0;
    }
    if (chunk.length > 0) {
      parts.push(Buffer.from(chunk));
      length += chunk.length;
    }
  }
  if (length > 0) yield Buffer.concat(parts);
}
