// What kind of executable a file is, from its first bytes: the ELF header
// (System V ABI), the Mach-O header (<mach-o/loader.h>), the PE/COFF
// headers (Microsoft PE format). Enough to tell a wrong-target build apart.

export type ExecutableKind =
  | { format: 'ELF'; machine: 'x86-64' | 'aarch64' | `0x${string}` }
  | { format: 'Mach-O'; cputype: 'x86_64' | 'arm64' | `0x${string}` }
  | { format: 'PE32+'; machine: 'x86-64' | `0x${string}`; subsystem: 'console' | 'gui' | `0x${string}` }
  | { format: 'unknown' };

const hex = (n: number) => `0x${n.toString(16)}` as const;

export function executableKind(bytes: Buffer): ExecutableKind {
  // ELF: \x7fELF, EI_CLASS 2 (64-bit), EI_DATA 1 (little-endian), e_machine at 0x12.
  if (bytes.readUInt32BE(0) === 0x7f454c46 && bytes[4] === 2 && bytes[5] === 1) {
    const machine = bytes.readUInt16LE(0x12);
    return { format: 'ELF', machine: machine === 62 ? 'x86-64' : machine === 183 ? 'aarch64' : hex(machine) };
  }
  // Mach-O: MH_MAGIC_64 little-endian, cputype CPU_TYPE_X86_64 / CPU_TYPE_ARM64.
  if (bytes.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = bytes.readUInt32LE(4);
    return { format: 'Mach-O', cputype: cpu === 0x01000007 ? 'x86_64' : cpu === 0x0100000c ? 'arm64' : hex(cpu) };
  }
  // PE: "MZ", e_lfanew at 0x3c → "PE\0\0", COFF machine, then the optional
  // header: magic 0x20b is PE32+, Subsystem at +68 (3 = Windows console).
  if (bytes.toString('latin1', 0, 2) === 'MZ') {
    const pe = bytes.readUInt32LE(0x3c);
    if (bytes.readUInt32BE(pe) !== 0x50450000) return { format: 'unknown' };
    const machine = bytes.readUInt16LE(pe + 4);
    const optional = pe + 24;
    if (bytes.readUInt16LE(optional) !== 0x20b) return { format: 'unknown' };
    const subsystem = bytes.readUInt16LE(optional + 68);
    return {
      format: 'PE32+',
      machine: machine === 0x8664 ? 'x86-64' : hex(machine),
      subsystem: subsystem === 3 ? 'console' : subsystem === 2 ? 'gui' : hex(subsystem),
    };
  }
  return { format: 'unknown' };
}
