import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** Larger than any key file (an RSA 16384-bit OpenSSH private key is about 13 KB). */
export const MAX_KEY_FILE_BYTES = 64 * 1024;

/**
 * Why a key file (or a passphrase file) was not read:
 * - `KEY_FILE_MISSING`: there is no file at that path.
 * - `KEY_FILE_NOT_REGULAR`: a directory, a FIFO, a socket or a device: reading a FIFO or a
 *   terminal would block until someone writes to it.
 * - `KEY_FILE_TOO_LARGE`: over MAX_KEY_FILE_BYTES; no key file is that large.
 * - `KEY_FILE_UNREADABLE`: the file exists and cannot be read (permissions, I/O).
 */
export type KeyFileErrorCode =
  'KEY_FILE_MISSING' | 'KEY_FILE_NOT_REGULAR' | 'KEY_FILE_TOO_LARGE' | 'KEY_FILE_UNREADABLE';

export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';

  constructor(
    readonly code: KeyFileErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The bytes of a regular file of at most `maxBytes`. The file is opened without blocking
 * (O_NONBLOCK: opening a FIFO does not wait for a writer) and checked on the open
 * descriptor, so a FIFO, a device or a directory is refused instead of hanging the process.
 * The messages name the path: callers that must not repeat it (a passphrase file, whose
 * name may be a mistyped passphrase) use the code and say their own words.
 */
export function readKeyFile(path: string, maxBytes = MAX_KEY_FILE_BYTES): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new KeyFileError('KEY_FILE_MISSING', `There is no file ${path}: give the path of the key file.`);
    throw new KeyFileError(
      'KEY_FILE_UNREADABLE',
      `Cannot read ${path} (${code ?? 'unreadable'}): check its permissions.`,
    );
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile())
      throw new KeyFileError(
        'KEY_FILE_NOT_REGULAR',
        `${path} is not a regular file (a directory, FIFO or device): give the path of the key file itself.`,
      );
    if (stat.size > maxBytes)
      throw new KeyFileError(
        'KEY_FILE_TOO_LARGE',
        `${path} is over ${Math.round(maxBytes / 1024)} KB, larger than any key file: give the key file itself.`,
      );
    // Read at most maxBytes + 1, whatever the size said: the file may grow meanwhile.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > maxBytes)
        throw new KeyFileError(
          'KEY_FILE_TOO_LARGE',
          `${path} is over ${Math.round(maxBytes / 1024)} KB, larger than any key file: give the key file itself.`,
        );
    }
    return buffer.subarray(0, length);
  } catch (error) {
    if (error instanceof KeyFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new KeyFileError(
      'KEY_FILE_UNREADABLE',
      `Cannot read ${path} (${code ?? 'unreadable'}): check its permissions.`,
    );
  } finally {
    closeSync(fd);
  }
}
