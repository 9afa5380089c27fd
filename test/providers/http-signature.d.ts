/** Minimal types for Joyent's reference verifier (the package ships none). */
declare module "http-signature" {
  import type { IncomingMessage } from "node:http";

  export interface ParsedSignature {
    scheme: string;
    algorithm: string;
    keyId: string;
    signingString: string;
    params: { keyId: string; algorithm: string; headers: string[]; signature: string };
  }

  export function parseRequest(
    request: IncomingMessage,
    options?: { clockSkew?: number; headers?: string[]; algorithms?: string[] },
  ): ParsedSignature;
  export function verifySignature(parsed: ParsedSignature, publicKey: string | Buffer): boolean;
}
