/**
 * The received instances held in memory at once, all receivers together (DIMSE associations and
 * STOW-RS requests), bounded in bytes. Each receiver already bounds what it holds in instances
 * (an instance's size cap, associations and requests at once), but multi-frame instances of
 * hundreds of megabytes on every association would still add up to more memory than the machine
 * has. An instance that does not fit fails alone as out of resources (DIMSE A700, STOW 0xA700)
 * and its bytes are dropped as they arrive, so the sender can send it again later and the
 * process stays up; nothing acknowledged is affected. A STOW-RS request whose own stores hold
 * the memory waits for one of them before reading its next part, so it never refuses itself.
 */

export class ReceiveMemory {
  private total = 0;
  private refusals = 0;

  constructor(readonly limitBytes: number) {}

  /** Bytes of received instances held now. */
  get held(): number {
    return this.total;
  }

  /** Instances refused so far for want of room. */
  get refused(): number {
    return this.refusals;
  }

  /**
   * Holds `bytes` more for an instance that already holds `holding`. False when that would pass
   * the limit while other instances hold memory: an instance alone always fits, since its
   * receiver's size cap bounds it.
   */
  hold(bytes: number, holding: number): boolean {
    if (this.total + bytes > this.limitBytes && this.total > holding) {
      this.refusals++;
      return false;
    }
    this.total += bytes;
    return true;
  }

  /** True when `bytes` more would fit now. */
  hasRoomFor(bytes: number): boolean {
    return this.total + bytes <= this.limitBytes;
  }

  release(bytes: number): void {
    this.total = Math.max(0, this.total - bytes);
  }
}

/** An instance's share of a `ReceiveMemory`, given back once, whatever ends it. */
export class HeldInstance {
  private bytes = 0;
  private over = false;

  constructor(private readonly memory: ReceiveMemory | undefined) {}

  /** False once the instance did not fit: it holds nothing from then on. */
  hold(bytes: number): boolean {
    if (this.over) return false;
    if (!this.memory) return true;
    if (this.memory.hold(bytes, this.bytes)) {
      this.bytes += bytes;
      return true;
    }
    this.over = true;
    this.release();
    return false;
  }

  /** True once the instance did not fit. */
  get refused(): boolean {
    return this.over;
  }

  release(): void {
    this.memory?.release(this.bytes);
    this.bytes = 0;
  }
}
