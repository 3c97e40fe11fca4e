/**
 * A usage token and where it came from. The token lives only in a private field that JSON and
 * inspect never show; `bearer()` is for the Authorization header alone.
 */
import { inspect } from 'node:util';
import type { Disposable } from '../util/events';

export type CredentialSource = 'claude-code' | 'claude-code-keychain' | 'opencode-auth' | 'opencode-db';

/** Why no usable token was found, in the codes of the model (most actionable wins). */
export type CredentialAbsence = 'auth_not_found' | 'token_not_found' | 'missing_scope' | 'token_expired';

export class UsageCredential {
  readonly #token: string;

  constructor(
    token: string,
    readonly source: CredentialSource,
    /** ms since epoch, when the source says. */
    readonly expiresAt?: number,
  ) {
    this.#token = token;
  }

  /** The bearer token, for the Authorization header only: never log, show or store it. */
  bearer(): string {
    return this.#token;
  }

  sameToken(other: UsageCredential | undefined): boolean {
    return other !== undefined && other.#token === this.#token;
  }

  toJSON(): Record<string, unknown> {
    return { source: this.source, expiresAt: this.expiresAt, token: '[redacted]' };
  }

  [inspect.custom](): string {
    return `UsageCredential { source: '${this.source}', token: [redacted] }`;
  }
}

export type CredentialLookup =
  | { ok: true; credential: UsageCredential }
  | { ok: false; reason: CredentialAbsence; source?: CredentialSource; expiresAt?: number; detail: string };

export interface CredentialProvider {
  resolve(): Promise<CredentialLookup>;
  /** Fires when a credential file changed (content, appeared, vanished). */
  onDidChange(listener: () => void): Disposable;
}
