/**
 * Big-endian reader for TPM 2.0 marshalled structures (TPM 2.0 Part 2 §5–§12). Every read is
 * bounds-checked; running past the end throws `TruncatedError`, which callers map to their own
 * "malformed" code.
 */

/** TPM 2.0 Part 2 §6.2: TPM_GENERATED_VALUE, the first four bytes of every TPM-made TPMS_ATTEST. */
export const TPM_GENERATED_VALUE = 0xff544347;
/** TPM 2.0 Part 2 §6.9: TPM_ST_ATTEST_QUOTE. */
export const TPM_ST_ATTEST_QUOTE = 0x8018;
/** TPM_ALG_ID (TPM 2.0 Part 2 §6.3, TCG Algorithm Registry): the algorithm ids used here. */
export const TPM_ALG = { RSA: 0x0001, AES: 0x0006, SHA256: 0x000b, NULL: 0x0010, OAEP: 0x0017, ECDSA: 0x0018, ECC: 0x0023, CFB: 0x0043 } as const;
/** TCG Algorithm Registry: TPM_ECC_NIST_P256. */
export const TPM_ECC_NIST_P256 = 0x0003;

export class TruncatedError extends RangeError {
  override readonly name = 'TruncatedError';
}

/**
 * @example
 * const reader = new TpmReader(bytes);
 * const magic = reader.u32();
 * const extraData = reader.sized();
 */
export class TpmReader {
  #offset = 0;
  constructor(private readonly bytes: Buffer) {}

  u8(): number {
    return this.take(1).readUInt8(0);
  }

  u16(): number {
    return this.take(2).readUInt16BE(0);
  }

  u32(): number {
    return this.take(4).readUInt32BE(0);
  }

  u64(): bigint {
    return this.take(8).readBigUInt64BE(0);
  }

  /** A TPM2B: a 16-bit size, then that many bytes. */
  sized(): Buffer {
    return this.take(this.u16());
  }

  take(length: number): Buffer {
    if (this.#offset + length > this.bytes.length) throw new TruncatedError(`structure truncated at byte ${this.#offset}`);
    const slice = this.bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return slice;
  }

  /** True when every byte was consumed: trailing bytes make a structure ambiguous, so callers refuse them. */
  get done(): boolean {
    return this.#offset === this.bytes.length;
  }
}
