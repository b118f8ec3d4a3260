// Reading a zstd frame's structure without decompressing it (RFC 8878 §3.1.1): the header, with
// its Frame_Content_Size, and the chain of block headers up to the last block and the optional
// checksum. Used to fail fast on a declared size and to check that a c1z holds exactly one frame.
import { C1zError } from './errors.js';

export const ZSTD_MAGIC = 0xfd2fb528;

export interface ZstdFrameHeader {
  /** Bytes from the magic number to the first block header. */
  headerSize: number;
  /** Frame_Content_Size, or null when the header does not declare it. */
  contentSize: number | null;
  singleSegment: boolean;
  hasChecksum: boolean;
  dictionaryId: number;
}

const FCS_SIZES = [0, 2, 4, 8] as const;
const DICT_ID_SIZES = [0, 1, 2, 4] as const;

function need(bytes: Uint8Array, end: number, what: string): void {
  if (end > bytes.length) throw new C1zError('C1Z_TRUNCATED', `zstd frame is truncated (in the ${what})`);
}

function readLittleEndian(bytes: Uint8Array, offset: number, size: number): number {
  let value = 0;
  for (let i = size - 1; i >= 0; i--) value = value * 256 + bytes[offset + i]!;
  return value;
}

/** Parses the frame header that starts at `offset`. */
export function parseZstdFrameHeader(bytes: Uint8Array, offset = 0): ZstdFrameHeader {
  need(bytes, offset + 5, 'frame header');
  const magic = readLittleEndian(bytes, offset, 4);
  if (magic !== ZSTD_MAGIC) {
    throw new C1zError(
      'C1Z_BAD_FRAME',
      `expected a zstd frame (magic 0xFD2FB528), found 0x${magic.toString(16).toUpperCase()}`,
    );
  }
  const descriptor = bytes[offset + 4]!;
  if (descriptor & 0x08) throw new C1zError('C1Z_BAD_FRAME', 'zstd frame header has its reserved bit set');
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  const hasChecksum = (descriptor & 0x04) !== 0;
  const dictIdSize = DICT_ID_SIZES[descriptor & 0x03]!;
  const fcsSize = fcsFlag === 0 && singleSegment ? 1 : FCS_SIZES[fcsFlag]!;
  let cursor = offset + 5 + (singleSegment ? 0 : 1);
  need(bytes, cursor + dictIdSize + fcsSize, 'frame header');
  const dictionaryId = readLittleEndian(bytes, cursor, dictIdSize);
  cursor += dictIdSize;
  let contentSize: number | null = null;
  if (fcsSize > 0) {
    contentSize = readLittleEndian(bytes, cursor, fcsSize) + (fcsSize === 2 ? 256 : 0);
    cursor += fcsSize;
  }
  return { headerSize: cursor - offset, contentSize, singleSegment, hasChecksum, dictionaryId };
}

export interface ZstdFrameLayout extends ZstdFrameHeader {
  /** Offset just past the frame (after its checksum, if any). */
  end: number;
  blocks: number;
}

/** Walks the frame at `offset` block by block and returns where it ends. */
export function walkZstdFrame(bytes: Uint8Array, offset = 0): ZstdFrameLayout {
  const header = parseZstdFrameHeader(bytes, offset);
  let cursor = offset + header.headerSize;
  let blocks = 0;
  for (;;) {
    need(bytes, cursor + 3, 'block header');
    const blockHeader = readLittleEndian(bytes, cursor, 3);
    const last = (blockHeader & 1) === 1;
    const blockType = (blockHeader >> 1) & 0x03;
    const blockSize = blockHeader >> 3;
    if (blockType === 3)
      throw new C1zError('C1Z_BAD_FRAME', `zstd block ${blocks} has the reserved block type`);
    cursor += 3 + (blockType === 1 ? 1 : blockSize);
    need(bytes, cursor, `block ${blocks}`);
    blocks++;
    if (last) break;
  }
  if (header.hasChecksum) {
    cursor += 4;
    need(bytes, cursor, 'content checksum');
  }
  return { ...header, end: cursor, blocks };
}
