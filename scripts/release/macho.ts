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

if (import.meta.main) {
  for (const file of process.argv.slice(2)) console.log(file, JSON.stringify(inspectMachO(readFileSync(file))));
}
