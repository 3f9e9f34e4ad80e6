import type { Readable } from 'node:stream';
import { SwrSyncError } from '../errors.js';
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
  constructor(private readonly context: UploadContext, readonly mode: UploadMode, readonly chunkSize: number) {}

  /**
   * Cross-repository mount (distribution-spec "Mounting a blob from another repository"): 201 means the blob is
   * now in `repository`; 202 means the registry opened an ordinary upload session instead, whose location is
   * returned so the caller can upload into it without another POST.
   */
  async mountBlob(registry: string, repository: string, digest: string, from: string): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const res = await this.context.exchange({
      registry, repository, access: 'push', extraScopes: from === repository ? [] : [`repository:${from}:pull`], method: 'POST',
      target: `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      headers: { 'content-length': '0' }, body: Buffer.alloc(0), expect: [201, 202],
    });
    await res.body.dump();
    if (res.status === 201) return { mounted: true };
    return { mounted: false, location: uploadLocation(res, registry, repository) };
  }

  /**
   * Uploads a blob whose digest and size are known: POST then one streaming monolithic PUT with Content-Length
   * (2 requests), falling back to chunked PATCH uploads when the registry refuses a monolithic PUT.
   * `open` is called once per attempt and must return the blob's bytes from the start.
   */
  async uploadBlob(
    registry: string,
    repository: string,
    digest: string,
    size: number,
    open: () => Promise<Readable>,
    location?: string,
  ): Promise<void> {
    const endpoint = await this.context.endpoint(registry, repository);
    if (this.mode === 'chunked' || endpoint.chunkedOnly) {
      return this.uploadChunked(registry, repository, digest, size, open, location);
    }
    const start = location ?? (await this.startUpload(registry, repository)).location;
    const body = this.context.limiter.pace(registry, await open());
    let res: RegistryResponse;
    try {
      res = await this.context.exchange({
        registry, repository, access: 'push', method: 'PUT', target: withQuery(start, 'digest', digest),
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        body: () => body, expect: [201, 204, 400, 404, 405, 411, 413, 415, 501],
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
      throw new SwrSyncError('ERR_REGISTRY_RESPONSE', `${registry}/${repository}: upload session for ${digest} was lost (404 ${detail})`, { registry, repository, status: 404, retryable: true });
    }
    // A digest the registry computed differently is not a reason to retry in chunks.
    if (res.status === 400 && /DIGEST_INVALID/.test(detail)) {
      throw new SwrSyncError('ERR_DIGEST_MISMATCH', `${registry}/${repository}: the registry rejected blob ${digest}: ${detail}`, { registry, repository, status: 400, retryable: true });
    }
    if (this.mode === 'monolithic') {
      throw new SwrSyncError('ERR_REGISTRY_RESPONSE', `${registry}/${repository}: monolithic upload of ${digest} refused (${res.status} ${detail})`, { registry, repository, status: res.status });
    }
    endpoint.chunkedOnly = true;
    await this.uploadChunked(registry, repository, digest, size, open);
  }

  private async startUpload(registry: string, repository: string): Promise<{ location: string; minChunk: number }> {
    const res = await this.context.exchange({
      registry, repository, access: 'push', method: 'POST', target: `/v2/${repository}/blobs/uploads/`,
      headers: { 'content-length': '0' }, body: Buffer.alloc(0), expect: [202],
    });
    await res.body.dump();
    return { location: uploadLocation(res, registry, repository), minChunk: Number(header(res.headers, 'oci-chunk-min-length') ?? '0') };
  }

  /** Chunked upload (distribution-spec "Pushing a blob in chunks"): PATCHes with Content-Range, then PUT ?digest=. */
  private async uploadChunked(registry: string, repository: string, digest: string, size: number, open: () => Promise<Readable>, existing?: string): Promise<void> {
    const session = existing === undefined ? await this.startUpload(registry, repository) : { location: existing, minChunk: 0 };
    const chunkSize = Math.max(this.chunkSize, session.minChunk || 0);
    let location = session.location;
    let offset = 0;
    const body = this.context.limiter.pace(registry, await open());
    try {
      for await (const chunk of chunks(body, chunkSize)) {
        const res = await this.context.exchange({
          registry, repository, access: 'push', method: 'PATCH', target: location,
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(chunk.length),
            'content-range': `${offset}-${offset + chunk.length - 1}`,
          },
          body: chunk, expect: [202],
        });
        await res.body.dump();
        location = uploadLocation(res, registry, repository);
        offset += chunk.length;
      }
    } finally {
      body.destroy();
    }
    if (offset !== size) {
      throw new SwrSyncError('ERR_SIZE_MISMATCH', `blob ${digest}: expected ${size} bytes, found ${offset}`, { registry, repository, retryable: true });
    }
    const res = await this.context.exchange({
      registry, repository, access: 'push', method: 'PUT', target: withQuery(location, 'digest', digest),
      headers: { 'content-length': '0' }, body: Buffer.alloc(0), expect: [201, 204],
    });
    await res.body.dump();
  }
}

/** The absolute URL of an upload session from a response's `Location` (relative to the request's URL). */
export function uploadLocation(res: RegistryResponse, registry: string, repository: string): string {
  const location = header(res.headers, 'location');
  if (!location) {
    throw new SwrSyncError('ERR_REGISTRY_RESPONSE', `${registry}/${repository}: upload response ${res.status} has no Location header`, { registry, repository, status: res.status });
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
