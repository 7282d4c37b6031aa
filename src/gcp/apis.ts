/**
 * The parts of Google's clients the bot uses, apart from the code that uses them, so that the client
 * factories and their users need not import each other.
 */
import type { protos } from '@google-cloud/compute';

export type Instance = protos.google.cloud.compute.v1.IInstance;
export type Project = protos.google.cloud.compute.v1.IProject;
export type GuestAttributes = protos.google.cloud.compute.v1.IGuestAttributes;

/** How the APIs give a checksum: a number, a decimal string, or a Long. */
export type Crc = number | string | { toString(): string } | null | undefined;

/** `instances.getGuestAttributes`: where a VM publishes its SSH host keys. */
export interface GuestAttributesApi {
  getGuestAttributes(request: {
    project: string;
    zone: string;
    instance: string;
    queryPath: string;
  }): Promise<[GuestAttributes, ...unknown[]]>;
}

/** The parts of `InstancesClient` and `ProjectsClient` the locator uses. */
export interface InstancesApi extends GuestAttributesApi {
  get(request: { project: string; zone: string; instance: string }): Promise<[Instance, ...unknown[]]>;
  /** `projects.get`: the project's common instance metadata. */
  getProject(request: { project: string }): Promise<[Project, ...unknown[]]>;
}

/** The part of `SecretManagerServiceClient` this source uses. */
export interface SecretManagerApi {
  accessSecretVersion(request: {
    name: string;
  }): Promise<
    [
      { name?: string | null; payload?: { data?: Uint8Array | string | null; dataCrc32c?: Crc } | null },
      ...unknown[],
    ]
  >;
}
