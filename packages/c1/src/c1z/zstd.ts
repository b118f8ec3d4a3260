// Streaming zstd between files with zstd-napi's native bindings: the database is compressed into
// one frame whose header records its size (the pledged source size), and decompressed back with
// the frame's end checked, so that neither side holds a whole database in memory.
import type { FileHandle } from 'node:fs/promises';
import zstd from 'zstd-napi/binding.js';
import { C1zError } from './errors.js';

const CHUNK_BYTES = 1 << 20;

export interface CompressOptions {
  /** zstd level; baton-sdk uses its encoder's fastest setting, which is about level 1. */
  level: number;
}

/**
 * Compresses `size` bytes of `source` (from offset 0) as a single zstd frame appended to `target`
 * at `targetOffset`, with Frame_Content_Size and a content checksum. Returns the bytes written.
 */
export async function compressToFrame(
  source: FileHandle,
  size: number,
  target: FileHandle,
  targetOffset: number,
  options: CompressOptions,
): Promise<number> {
  const cctx = new zstd.CCtx();
  cctx.setParameter(zstd.CParameter.compressionLevel, options.level);
  cctx.setParameter(zstd.CParameter.contentSizeFlag, 1);
  cctx.setParameter(zstd.CParameter.checksumFlag, 1);
  cctx.setPledgedSrcSize(size);
  const input = Buffer.allocUnsafe(CHUNK_BYTES);
  const output = Buffer.allocUnsafe(Math.max(zstd.cStreamOutSize(), CHUNK_BYTES));
  let read = 0;
  let written = 0;
  const flush = async (length: number) => {
    if (length === 0) return;
    await target.write(output, 0, length, targetOffset + written);
    written += length;
  };
  while (read < size) {
    const { bytesRead } = await source.read(input, 0, Math.min(CHUNK_BYTES, size - read), read);
    if (bytesRead === 0) throw new Error(`database file ended at ${read} of ${size} bytes`);
    read += bytesRead;
    const directive = read === size ? zstd.EndDirective.end : zstd.EndDirective.continue;
    let chunk = input.subarray(0, bytesRead);
    for (;;) {
      const [remaining, produced, consumed] = cctx.compressStream2(output, chunk, directive);
      await flush(produced);
      chunk = chunk.subarray(consumed);
      if (directive === zstd.EndDirective.end ? remaining === 0 : chunk.length === 0) break;
    }
  }
  if (size === 0) {
    for (;;) {
      const [remaining, produced] = cctx.compressStream2(output, Buffer.alloc(0), zstd.EndDirective.end);
      await flush(produced);
      if (remaining === 0) break;
    }
  }
  return written;
}

export interface DecompressOptions {
  /** Largest decoded size accepted. */
  maxDecodedBytes: number;
  /** log2 of the largest zstd window accepted (baton-sdk's decoder allows 128 MiB, 27). */
  windowLogMax: number;
}

/**
 * Decompresses the single zstd frame that starts at `sourceOffset` in `source` into `target`.
 * Fails with C1Z_TRUNCATED when the input ends inside the frame, C1Z_BAD_FRAME when the bytes do
 * not decode or more follow the frame, and C1Z_TOO_LARGE past `maxDecodedBytes`.
 */
export async function decompressFrame(
  source: FileHandle,
  sourceOffset: number,
  target: FileHandle,
  options: DecompressOptions,
): Promise<number> {
  const dctx = new zstd.DCtx();
  dctx.setParameter(zstd.DParameter.windowLogMax, options.windowLogMax);
  const input = Buffer.allocUnsafe(CHUNK_BYTES);
  const output = Buffer.allocUnsafe(Math.max(zstd.dStreamOutSize(), CHUNK_BYTES));
  let position = sourceOffset;
  let decoded = 0;
  let frameDone = false;
  for (;;) {
    const { bytesRead } = await source.read(input, 0, CHUNK_BYTES, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    let chunk = input.subarray(0, bytesRead);
    while (chunk.length > 0 || !frameDone) {
      if (frameDone) {
        throw new C1zError(
          'C1Z_BAD_FRAME',
          `${chunk.length}+ bytes follow the zstd frame; a c1z holds exactly one frame`,
        );
      }
      let result: [number, number, number];
      try {
        result = dctx.decompressStream(output, chunk);
      } catch (error) {
        throw new C1zError('C1Z_BAD_FRAME', `zstd frame does not decode: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const [remaining, produced, consumed] = result;
      if (produced > 0) {
        if (decoded + produced > options.maxDecodedBytes) {
          throw new C1zError(
            'C1Z_TOO_LARGE',
            `decoded size exceeds the limit of ${options.maxDecodedBytes} bytes`,
          );
        }
        await target.write(output, 0, produced, decoded);
        decoded += produced;
      }
      chunk = chunk.subarray(consumed);
      if (remaining === 0) frameDone = true;
      // Input used up and the output buffer not full: the decoder needs more input.
      if (chunk.length === 0 && produced < output.length) break;
    }
  }
  if (!frameDone)
    throw new C1zError('C1Z_TRUNCATED', `zstd frame is truncated after ${decoded} decoded bytes`);
  return decoded;
}
