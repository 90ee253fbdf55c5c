// What code signature a Mach-O executable carries, read from its load
// commands (Apple's <mach-o/loader.h>, <kern/cs_blobs.h>). Bun re-signs some
// cross-compiled darwin executables ad hoc and not others; docs/releases.md's macOS
// note and release.json come from this.
// Usage: bun scripts/release/macho.ts FILE…
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const MH_MAGIC_64 = 0xfeedfacf;
const LC_CODE_SIGNATURE = 0x1d;
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CS_ADHOC = 0x2;
const CS_LINKER_SIGNED = 0x20000;
const CS_RUNTIME = 0x10000;
const CS_HASHTYPE_SHA256 = 2;

export interface MachOSignature {
  /** `x86_64`, `arm64`, or the raw CPU_TYPE in hex. */
  cputype: string;
  /** An LC_CODE_SIGNATURE load command is present. */
  signed: boolean;
  /** The CodeDirectory's identifier (`a.out` for a linker signature, `bun` for Bun's own). */
  identifier?: string;
  adhoc: boolean;
  linkerSigned: boolean;
  hardenedRuntime: boolean;
  /** Whether the CodeDirectory covers the file up to the signature and every page hash matches. */
  valid: boolean;
  /** Pages whose SHA-256 differs from the CodeDirectory's. */
  badPages: number;
}

export function inspectMachO(bytes: Buffer): MachOSignature {
  if (bytes.readUInt32LE(0) !== MH_MAGIC_64) throw new Error('not a 64-bit little-endian Mach-O file');
  const cpu = bytes.readUInt32LE(4);
  const cputype = cpu === 0x01000007 ? 'x86_64' : cpu === 0x0100000c ? 'arm64' : `0x${cpu.toString(16)}`;
  const none = { cputype, signed: false, adhoc: false, linkerSigned: false, hardenedRuntime: false, valid: false, badPages: 0 };
  let offset = 32; // sizeof(mach_header_64)
  let signatureAt: number | undefined;
  for (let i = 0; i < bytes.readUInt32LE(16); i++) {
    if (bytes.readUInt32LE(offset) === LC_CODE_SIGNATURE) signatureAt = bytes.readUInt32LE(offset + 8);
    offset += bytes.readUInt32LE(offset + 4);
  }
  if (signatureAt === undefined) return none;
  if (bytes.readUInt32BE(signatureAt) !== CSMAGIC_EMBEDDED_SIGNATURE) return { ...none, signed: true };

  // The SuperBlob's index: (type, offset) pairs; slot 0 is the CodeDirectory.
  let directory: number | undefined;
  for (let i = 0; i < bytes.readUInt32BE(signatureAt + 8); i++) {
    const blob = signatureAt + bytes.readUInt32BE(signatureAt + 16 + i * 8);
    if (bytes.readUInt32BE(signatureAt + 12 + i * 8) === 0 && bytes.readUInt32BE(blob) === CSMAGIC_CODEDIRECTORY) directory = blob;
  }
  if (directory === undefined) return { ...none, signed: true };
  const flags = bytes.readUInt32BE(directory + 12);
  const hashOffset = bytes.readUInt32BE(directory + 16);
  const identOffset = bytes.readUInt32BE(directory + 20);
  const codeSlots = bytes.readUInt32BE(directory + 28);
  const codeLimit = bytes.readUInt32BE(directory + 32);
  const hashSize = bytes[directory + 36]!;
  const hashType = bytes[directory + 37]!;
  const pageSize = 2 ** bytes[directory + 39]!;
  const identifier = bytes.toString('latin1', directory + identOffset, bytes.indexOf(0, directory + identOffset));

  let badPages = 0;
  if (hashType === CS_HASHTYPE_SHA256) {
    for (let page = 0; page < codeSlots; page++) {
      const data = bytes.subarray(page * pageSize, Math.min((page + 1) * pageSize, codeLimit));
      const expected = bytes.subarray(directory + hashOffset + page * hashSize, directory + hashOffset + (page + 1) * hashSize);
      if (!createHash('sha256').update(data).digest().equals(expected)) badPages++;
    }
  }
  return {
    cputype,
    signed: true,
    identifier,
    adhoc: (flags & CS_ADHOC) !== 0,
    linkerSigned: (flags & CS_LINKER_SIGNED) !== 0,
    hardenedRuntime: (flags & CS_RUNTIME) !== 0,
    valid: hashType === CS_HASHTYPE_SHA256 && codeLimit === signatureAt && badPages === 0,
    badPages,
  };
}

const LC_SEGMENT_64 = 0x19;
const CS_EXECSEG_MAIN_BINARY = 0x1;
const PAGE = 4096;

/**
 * Replaces a Mach-O executable's signature with an ad-hoc one over its
 * current bytes, laid out as Bun's own darwin-arm64 signature is (a SuperBlob
 * holding one CodeDirectory 0x20400, flags adhoc + linker-signed, identifier
 * `a.out`, SHA-256 per 4 KiB page up to the signature, the __TEXT segment as
 * the executable segment): re-signing Bun's arm64 output gives back the same
 * bytes. The signature stays the file's last bytes; LC_CODE_SIGNATURE and
 * __LINKEDIT are resized to fit it.
 */
export function signAdHoc(input: Buffer): Buffer {
  if (input.readUInt32LE(0) !== MH_MAGIC_64) throw new Error('not a 64-bit little-endian Mach-O file');
  let offset = 32;
  let signatureCommand: number | undefined;
  let linkedit: number | undefined;
  let textFileSize = 0n;
  for (let i = 0; i < input.readUInt32LE(16); i++) {
    const cmd = input.readUInt32LE(offset);
    if (cmd === LC_CODE_SIGNATURE) signatureCommand = offset;
    if (cmd === LC_SEGMENT_64) {
      const name = input.toString('latin1', offset + 8, offset + 24).replace(/\0+$/, '');
      if (name === '__LINKEDIT') linkedit = offset;
      if (name === '__TEXT') textFileSize = input.readBigUInt64LE(offset + 48);
    }
    offset += input.readUInt32LE(offset + 4);
  }
  if (signatureCommand === undefined || linkedit === undefined) throw new Error('no LC_CODE_SIGNATURE or __LINKEDIT to re-sign');
  const codeLimit = input.readUInt32LE(signatureCommand + 8);
  const linkeditOffset = Number(input.readBigUInt64LE(linkedit + 40));

  const identifier = Buffer.from('a.out\0', 'latin1');
  const codeSlots = Math.ceil(codeLimit / PAGE);
  const directoryHeader = 88; // CodeDirectory 0x20400 up to execSegFlags
  const hashOffset = directoryHeader + identifier.length;
  const directoryLength = hashOffset + codeSlots * 32;
  const superHeader = 12 + 8; // magic, length, count + one index entry
  const signatureLength = superHeader + directoryLength;

  const output = Buffer.alloc(codeLimit + signatureLength);
  input.copy(output, 0, 0, codeLimit);
  // The load commands live in the first page, so they are updated before any hash.
  output.writeUInt32LE(signatureLength, signatureCommand + 12);
  const linkeditSize = codeLimit + signatureLength - linkeditOffset;
  output.writeBigUInt64LE(BigInt(linkeditSize), linkedit + 48);
  const vmSize = Number(output.readBigUInt64LE(linkedit + 32));
  output.writeBigUInt64LE(BigInt(Math.max(vmSize, Math.ceil(linkeditSize / PAGE) * PAGE)), linkedit + 32);

  let at = codeLimit;
  output.writeUInt32BE(CSMAGIC_EMBEDDED_SIGNATURE, at);
  output.writeUInt32BE(signatureLength, at + 4);
  output.writeUInt32BE(1, at + 8);
  output.writeUInt32BE(0, at + 12); // CSSLOT_CODEDIRECTORY
  output.writeUInt32BE(superHeader, at + 16);
  at += superHeader;
  output.writeUInt32BE(CSMAGIC_CODEDIRECTORY, at);
  output.writeUInt32BE(directoryLength, at + 4);
  output.writeUInt32BE(0x20400, at + 8);
  output.writeUInt32BE(CS_ADHOC | CS_LINKER_SIGNED, at + 12);
  output.writeUInt32BE(hashOffset, at + 16);
  output.writeUInt32BE(directoryHeader, at + 20);
  output.writeUInt32BE(0, at + 24); // no special slots
  output.writeUInt32BE(codeSlots, at + 28);
  output.writeUInt32BE(codeLimit, at + 32);
  output[at + 36] = 32;
  output[at + 37] = CS_HASHTYPE_SHA256;
  output[at + 38] = 0;
  output[at + 39] = Math.log2(PAGE);
  // spare2, scatterOffset, teamOffset, spare3, codeLimit64 and execSegBase stay 0.
  output.writeBigUInt64BE(textFileSize, at + 72);
  output.writeBigUInt64BE(BigInt(CS_EXECSEG_MAIN_BINARY), at + 80);
  identifier.copy(output, at + directoryHeader);
  for (let page = 0; page < codeSlots; page++) {
    const data = output.subarray(page * PAGE, Math.min((page + 1) * PAGE, codeLimit));
    createHash('sha256').update(data).digest().copy(output, at + hashOffset + page * 32);
  }
  return output;
}

if (import.meta.main) {
  for (const file of process.argv.slice(2)) console.log(file, JSON.stringify(inspectMachO(readFileSync(file))));
}
