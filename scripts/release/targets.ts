// The six release targets (DESIGN §12) and the Bun target each cross-compiles with.

export interface ReleaseTarget {
  /** Our name, used in archive names and by install.sh: `linux-x64-baseline`. */
  name: string;
  /** `bun build --compile --target=` value. */
  bun: string;
  os: 'linux' | 'darwin' | 'windows';
  arch: 'x64' | 'arm64';
  /** The executable's name inside the archive. */
  executable: 'rxroute' | 'rxroute.exe';
  archive: 'tar.gz' | 'zip';
}

function target(name: string, os: ReleaseTarget['os'], arch: ReleaseTarget['arch'], baseline = false): ReleaseTarget {
  return {
    name,
    // Bun calls its 64-bit ARM builds aarch64 on Linux and arm64 on macOS; both accept `arm64`.
    bun: `bun-${os}-${arch}${baseline ? '-baseline' : ''}`,
    os,
    arch,
    executable: os === 'windows' ? 'rxroute.exe' : 'rxroute',
    archive: os === 'windows' ? 'zip' : 'tar.gz',
  };
}

export const TARGETS: readonly ReleaseTarget[] = [
  target('linux-x64', 'linux', 'x64'),
  // For x64 CPUs without AVX2 (before Haswell, some Atoms and VMs): Bun's baseline build.
  target('linux-x64-baseline', 'linux', 'x64', true),
  target('linux-arm64', 'linux', 'arm64'),
  target('darwin-x64', 'darwin', 'x64'),
  target('darwin-arm64', 'darwin', 'arm64'),
  target('windows-x64', 'windows', 'x64'),
];

/** `rxroute-0.2.0-linux-x64.tar.gz` */
export function archiveName(version: string, t: ReleaseTarget): string {
  return `rxroute-${version}-${t.name}.${t.archive}`;
}

/** The bare executable next to the archives: `rxroute-0.2.0-windows-x64.exe`. */
export function executableName(version: string, t: ReleaseTarget): string {
  return `rxroute-${version}-${t.name}${t.os === 'windows' ? '.exe' : ''}`;
}
