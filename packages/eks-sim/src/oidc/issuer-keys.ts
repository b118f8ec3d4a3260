// The signing keys of the clusters' service-account token issuers. Each EKS cluster has its own
// OIDC issuer whose RSA key signs projected service-account tokens; STS and the Pod Identity agent
// verify those tokens against the issuer's published JWKS. Keys are made on first use (an RSA key
// takes tens of milliseconds, and most worlds never mint a token) and kept for the life of the
// simulator, so a token minted before a world reset still verifies afterwards.
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';

export interface IssuerKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public key as a JWK, the way `<issuer>/keys` publishes it. */
  jwk: Record<string, string>;
}

export class IssuerKeys {
  private readonly keys = new Map<string, IssuerKey>();

  /** The key of `issuer` (an `https://` URL), created on first use. */
  get(issuer: string): IssuerKey {
    let key = this.keys.get(issuer);
    if (!key) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const exported = publicKey.export({ format: 'jwk' });
      const kid = createHash('sha256')
        .update(publicKey.export({ format: 'der', type: 'spki' }))
        .digest('base64url')
        .slice(0, 43);
      key = {
        kid,
        privateKey,
        publicKey,
        jwk: { kty: 'RSA', use: 'sig', alg: 'RS256', kid, n: String(exported.n), e: String(exported.e) },
      };
      this.keys.set(issuer, key);
    }
    return key;
  }
}
