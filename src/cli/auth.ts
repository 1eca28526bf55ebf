import { createHash, createPublicKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';

export type Action = 'subscribe' | 'publish';

/** The claim a JWT carries: which streams its holder may subscribe to and publish to. */
export interface SsekitClaim {
  subscribe?: string[];
  publish?: string[];
}

/** Allowed, or refused with a status (401: who are you; 403: not this) and a reason to show. */
export type Decision = { ok: true } | { ok: false; status: 401 | 403; reason: string };

export interface AuthSettings {
  publishToken: string | undefined;
  jwtSecret: string | undefined;
  /** PEM text, or the path of a PEM file. */
  jwtPublicKey: string | undefined;
  /** With a JWT key: subscribers need no token. */
  allowAnonymous: boolean;
}

const HMAC_ALGS = ['HS256', 'HS384', 'HS512'];
const ASYMMETRIC_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/** Who may publish and subscribe: a static publish token, JWTs with an `ssekit` claim, or both. */
export class Auth {
  private readonly tokenHash: Buffer | undefined;
  private readonly key: Uint8Array | KeyObject | undefined;
  private readonly algorithms: string[];
  private readonly allowAnonymous: boolean;

  constructor(settings: AuthSettings) {
    this.tokenHash =
      settings.publishToken === undefined ? undefined : sha256(settings.publishToken);
    if (settings.jwtSecret !== undefined && settings.jwtPublicKey !== undefined) {
      throw new Error('Give --jwt-secret or --jwt-public-key, not both.');
    }
    if (settings.jwtSecret !== undefined) {
      this.key = new TextEncoder().encode(settings.jwtSecret);
      this.algorithms = HMAC_ALGS;
    } else if (settings.jwtPublicKey !== undefined) {
      this.key = loadPublicKey(settings.jwtPublicKey);
      this.algorithms = ASYMMETRIC_ALGS;
    } else {
      this.algorithms = [];
    }
    this.allowAnonymous = settings.allowAnonymous;
  }

  /** Whether subscribing needs a token at all. */
  get subscribeIsOpen(): boolean {
    return this.key === undefined || this.allowAnonymous;
  }

  get publishIsOpen(): boolean {
    return this.key === undefined && this.tokenHash === undefined;
  }

  /** Decide whether `req` may `action` on `stream`. Subscribers may send the token as `?token=`. */
  async check(
    req: IncomingMessage,
    action: Action,
    stream: string,
    query: URLSearchParams,
  ): Promise<Decision> {
    const open = action === 'subscribe' ? this.subscribeIsOpen : this.publishIsOpen;
    let token = bearer(req.headers.authorization);
    if (token === undefined && action === 'subscribe') token = query.get('token') ?? undefined;
    if (token === undefined) {
      if (open) return { ok: true };
      if (req.headers.authorization !== undefined) {
        return {
          ok: false,
          status: 401,
          reason: 'The Authorization header must be "Bearer <token>".',
        };
      }
      const how = action === 'subscribe' ? ' (or ?token=<token> in the URL)' : '';
      return {
        ok: false,
        status: 401,
        reason: `A token is required to ${action}: send "Authorization: Bearer <token>"${how}.`,
      };
    }
    if (
      action === 'publish' &&
      this.tokenHash !== undefined &&
      timingSafeEqual(sha256(token), this.tokenHash)
    ) {
      return { ok: true };
    }
    if (this.key === undefined || !looksLikeJwt(token)) {
      // A subscriber's stray token on an open hub is ignored, as a hub without auth would.
      if (open) return { ok: true };
      return {
        ok: false,
        status: 403,
        reason: `The token is not valid for ${action === 'publish' ? 'publishing' : 'subscribing'}.`,
      };
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: this.algorithms }));
    } catch (err) {
      return { ok: false, status: 401, reason: jwtProblem(err) };
    }
    const claim = (payload as { ssekit?: SsekitClaim }).ssekit;
    const patterns = claim?.[action];
    if (!Array.isArray(patterns)) {
      return {
        ok: false,
        status: 403,
        reason: `The token's "ssekit" claim has no "${action}" list, so it may not ${action}.`,
      };
    }
    if (!patterns.some((p) => typeof p === 'string' && matches(p, stream))) {
      return {
        ok: false,
        status: 403,
        reason: `The token may not ${action} to stream "${stream}" (it allows ${JSON.stringify(patterns)}).`,
      };
    }
    return { ok: true };
  }
}

/** A stream pattern: `*` matches any run of characters, `/` included; the rest is literal. */
export function matches(pattern: string, stream: string): boolean {
  if (!pattern.includes('*')) return pattern === stream;
  const parts = pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`, 's').test(stream);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function bearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);
}

function jwtProblem(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired)
    return 'The token has expired (its "exp" is in the past).';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return "The token's signature does not verify with this hub's key.";
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return `The token's "${err.claim}" claim is not valid: ${err.reason}.`;
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) {
    return 'The token is signed with an algorithm this hub does not accept for its key.';
  }
  return `The token is not a valid JWT: ${err instanceof Error ? err.message : String(err)}.`;
}

function loadPublicKey(pemOrPath: string): KeyObject {
  const pem = pemOrPath.includes('-----BEGIN') ? pemOrPath : readPem(pemOrPath);
  try {
    return createPublicKey(pem);
  } catch (err) {
    throw new Error(
      `--jwt-public-key is not a PEM public key: ${err instanceof Error ? err.message : err}`,
    );
  }
}

function readPem(path: string): string {
  if (!existsSync(path)) {
    throw new Error(`--jwt-public-key: "${path}" is neither PEM text nor a file that exists.`);
  }
  return readFileSync(path, 'utf8');
}
