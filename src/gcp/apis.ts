/**
 * The parts of Google's clients the bot uses, apart from the code that uses them, so that the client
 * factories and their users need not import each other.
 */
import type { protos } from '@google-cloud/compute';
import type { protos as osLogin } from '@google-cloud/os-login';

export type Instance = protos.google.cloud.compute.v1.IInstance;
export type Project = protos.google.cloud.compute.v1.IProject;
export type GuestAttributes = protos.google.cloud.compute.v1.IGuestAttributes;
export type Metadata = protos.google.cloud.compute.v1.IMetadata;
export type Operation = protos.google.cloud.compute.v1.IOperation;

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

/**
 * `instances.setMetadata` and `zoneOperations.get`: how the bot adds its key to a VM's `ssh-keys`. The
 * change is an operation; it has taken effect once the operation is DONE.
 */
export interface MetadataApi {
  setMetadata(request: {
    project: string;
    zone: string;
    instance: string;
    metadataResource: Metadata;
  }): Promise<[Operation, ...unknown[]]>;
  getZoneOperation(request: {
    project: string;
    zone: string;
    operation: string;
  }): Promise<[Operation, ...unknown[]]>;
}

export type LoginProfile = osLogin.google.cloud.oslogin.v1.ILoginProfile;

/** The part of `OsLoginServiceClient` that lets the bot's key in on VMs with OS Login on. */
export interface OsLoginApi {
  getLoginProfile(request: { name: string; projectId: string }): Promise<[LoginProfile, ...unknown[]]>;
  importSshPublicKey(request: {
    parent: string;
    sshPublicKey: { key: string };
    projectId: string;
  }): Promise<[{ loginProfile?: LoginProfile | null }, ...unknown[]]>;
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
