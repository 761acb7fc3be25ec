/**
 * A release is one image. Where a reference carries a digest, the digest is what identifies it
 * (`repo:1.4@sha256:ab..` and `repo@sha256:ab..` are the same release); a tag alone can be moved,
 * so a reference with a digest is never taken to be the same release as one without.
 */
export function sameRelease(a?: string, b?: string): boolean {
  if (!a || !b) return false;
  const da = digestOf(a);
  const db = digestOf(b);
  if (da || db) return da === db && repositoryOf(a) === repositoryOf(b);
  return a === b;
}

function digestOf(image: string): string | undefined {
  const at = image.indexOf('@');
  return at < 0 ? undefined : image.slice(at + 1);
}

/** `registry/repo` without tag or digest (a registry's `:port` is kept). */
function repositoryOf(image: string): string {
  const withoutDigest = image.split('@')[0];
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
}
