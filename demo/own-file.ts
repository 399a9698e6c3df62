import { lstatSync } from 'node:fs';

/**
 * Why the demo must not trust `file`, or undefined when it may: it must be a regular file
 * (not a symbolic link) that this user owns and neither group nor others can write. In a
 * shared directory another local user could have planted it (a signing key, a database with
 * their own admin key). Absent files are fine (the demo creates them).
 */
export function untrustedFileReason(file: string): string | undefined {
  let stat;
  try {
    stat = lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (stat.isSymbolicLink()) return 'is a symbolic link';
  if (!stat.isFile()) return 'is not a regular file';
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) return `is owned by another user (uid ${stat.uid})`;
  if (stat.mode & 0o022)
    return `can be written by ${stat.mode & 0o002 ? 'any user' : 'its group'} (mode ${(stat.mode & 0o777).toString(8)})`;
  return undefined;
}
