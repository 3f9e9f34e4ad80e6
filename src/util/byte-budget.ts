/**
 * A semaphore counted in bytes: `acquire(n)` waits until `n` more bytes fit under the capacity. Bounds the memory
 * that manifests held by concurrent copies take, whatever a registry sends (docs/security.md). One request larger
 * than the capacity passes when nothing else is held, so it cannot wait forever.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: Array<{ bytes: number; resume: () => void }> = [];

  constructor(readonly capacity: number) {}

  /** Waits for `bytes`; resolves with the function that gives them back (calling it twice gives back once). */
  async acquire(bytes: number): Promise<() => void> {
    const size = Math.max(0, bytes);
    if (!this.fits(size) || this.waiting.length > 0)
      await new Promise<void>((resume) => this.waiting.push({ bytes: size, resume }));
    else this.used += size;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= size;
      this.wake();
    };
  }

  private fits(size: number): boolean {
    return this.used === 0 || this.used + size <= this.capacity;
  }

  /** First come, first served: a large request is not overtaken for ever by small ones. */
  private wake(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.bytes)) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.resume();
    }
  }
}
