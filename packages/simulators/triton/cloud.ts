/**
 * What the datacenters of one Triton cloud share: the accounts and their keys (one login signs in every
 * datacenter) and the directory of datacenters that ListDatacenters serves and ImportImageFromDatacenter
 * copies from. Each datacenter keeps its own images and machines.
 */
import { generateKeyPairSync, randomUUID } from "node:crypto";
import sshpk from "sshpk";
import { SeededRandom } from "../kit";
import { simKeyFromOpenSsh, type SimAccount, type SimKey } from "./auth";
import type { ImageService } from "./images";

export type SimKeyType = "ed25519" | "rsa" | "ecdsa";

export interface GeneratedKeyPair {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** OpenSSH public key line. */
  publicKey: string;
  /** MD5 fingerprint, colon hex, as CloudAPI names keys. */
  fingerprint: string;
}

export interface SimAccountCredentials {
  login: string;
  uuid: string;
  fingerprint: string;
  publicKey: string;
  /** Present when the simulator generated the key. */
  privateKeyPem?: string;
}

export interface TritonCloudOptions {
  /** Account login. Default "imagesync". */
  account?: string;
  accountUuid?: string;
  /** Key pair generated for the account when `privateKey` is not given. Default ed25519. */
  keyType?: SimKeyType;
  /** The account's private key (PEM or OpenSSH); its public key is registered. */
  privateKey?: string;
  /** Seed for generated ids. Default 1. */
  seed?: number;
}

export interface TritonCloud {
  readonly random: SeededRandom;
  readonly accounts: Map<string, SimAccount>;
  /** The main account, the one the simulator's credentials are for. */
  readonly account: SimAccount;
  readonly privateKeyPem: string;
  readonly publicKey: string;
  readonly fingerprint: string;
  /** Owner of the generated public images (the datacenters' admin account). */
  readonly adminUuid: string;
  /** Other accounts that own private or shared images in generated catalogs. */
  readonly otherOwners: readonly string[];
  /** Datacenter name → its CloudAPI URL and images. */
  readonly datacenters: Map<string, { url: string; images: ImageService }>;
  addAccount(login: string, options?: { uuid?: string; publicKey?: string; keyType?: SimKeyType }): SimAccountCredentials;
  addUser(login: string, options?: { publicKey?: string; keyType?: SimKeyType }): SimAccountCredentials;
  addKey(publicKey: string, options?: { name?: string; user?: string }): string;
}

export function generateKeyPair(type: SimKeyType = "ed25519"): GeneratedKeyPair {
  const { privateKey } =
    type === "rsa"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : type === "ecdsa"
        ? generateKeyPairSync("ec", { namedCurve: "P-256" })
        : generateKeyPairSync("ed25519");
  const privateKeyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  return { privateKeyPem, ...publicKeyOf(privateKeyPem) };
}

function publicKeyOf(privateKeyText: string): { publicKey: string; fingerprint: string } {
  const key = sshpk.parsePrivateKey(privateKeyText, "auto");
  return { publicKey: key.toPublic().toString("ssh"), fingerprint: key.fingerprint("md5").toString("hex") };
}

export function createTritonCloud(options: TritonCloudOptions = {}): TritonCloud {
  const random = new SeededRandom(options.seed ?? 1);
  const login = options.account ?? "imagesync";
  const accountUuid = options.accountUuid ?? random.uuid();
  const otherOwners = Array.from({ length: 5 }, () => random.uuid());
  const privateKeyPem = options.privateKey ?? generateKeyPair(options.keyType).privateKeyPem;
  const { publicKey, fingerprint } = publicKeyOf(privateKeyPem);
  const account: SimAccount = { login, uuid: accountUuid, keys: [simKeyFromOpenSsh(publicKey)], users: new Map() };
  const accounts = new Map([[login, account]]);

  return {
    random,
    accounts,
    account,
    privateKeyPem,
    publicKey,
    fingerprint,
    adminUuid: "930896af-bf8c-48d4-885c-6573a94b1853",
    otherOwners,
    datacenters: new Map(),
    addAccount(accountLogin, accountOptions = {}) {
      const other: SimAccount = { login: accountLogin, uuid: accountOptions.uuid ?? randomUUID(), keys: [], users: new Map() };
      accounts.set(accountLogin, other);
      return { login: accountLogin, uuid: other.uuid, ...registerKey(other.keys, accountOptions) };
    },
    addUser(userLogin, userOptions = {}) {
      const user = { login: userLogin, uuid: randomUUID(), keys: [] };
      account.users.set(userLogin, user);
      return { login: userLogin, uuid: user.uuid, ...registerKey(user.keys, userOptions) };
    },
    addKey(publicKeyLine, keyOptions = {}) {
      const holder = keyOptions.user === undefined ? account : account.users.get(keyOptions.user);
      if (!holder) throw new Error(`no user ${keyOptions.user}`);
      const key = simKeyFromOpenSsh(publicKeyLine, keyOptions.name);
      holder.keys.push(key);
      return key.fingerprint;
    },
  };
}

/** Registers the given public key, or a generated pair's, and says what was registered. */
function registerKey(keys: SimKey[], source: { publicKey?: string; keyType?: SimKeyType }) {
  const generated = source.publicKey === undefined ? generateKeyPair(source.keyType) : undefined;
  const key = simKeyFromOpenSsh(source.publicKey ?? generated?.publicKey ?? "");
  keys.push(key);
  return { fingerprint: key.fingerprint, publicKey: key.openssh, privateKeyPem: generated?.privateKeyPem };
}
