// What the connector says about itself in Hello: build, operating system and connector metadata.
// C1 requires every build and OS field to be non-empty, so unknown values are sent as "unknown".
import { readFileSync } from 'node:fs';
import { arch, hostname, platform, release } from 'node:os';
import type { HelloInfo } from './client.js';

export interface HelloInfoOptions {
  packageName: string;
  packageVersion: string;
  displayName: string;
  description?: string;
}

/** Hello info for this process, from node:os and /etc/os-release. */
export function defaultHelloInfo(options: HelloInfoOptions): HelloInfo {
  const osRelease = readOsRelease();
  const distro = osRelease.ID ?? platform();
  return {
    buildInfo: {
      langVersion: `node ${process.version}`,
      package: options.packageName,
      packageVersion: options.packageVersion,
    },
    osInfo: {
      hostname: hostname() || 'unknown',
      os: platform(),
      platform: distro,
      platformVersion: osRelease.VERSION_ID ?? 'unknown',
      platformFamily: osRelease.ID_LIKE?.split(' ')[0] ?? distro,
      kernelVersion: release() || 'unknown',
      kernelArch: arch(),
      virtualizationSystem: 'unknown',
    },
    connectorMetadata: {
      displayName: options.displayName,
      ...(options.description ? { description: options.description } : {}),
    },
  };
}

function readOsRelease(): Record<string, string> {
  try {
    const entries = readFileSync('/etc/os-release', 'utf8')
      .split('\n')
      .map((line) => /^([A-Z_]+)=(.*)$/.exec(line.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1] ?? '', (m[2] ?? '').replace(/^"|"$/g, '')]);
    return Object.fromEntries(entries) as Record<string, string>;
  } catch {
    return {};
  }
}
