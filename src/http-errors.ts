import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

/** Short, stable error names for the body-parser failures a client can cause (no messages, no paths). */
const CLIENT_ERRORS: Record<string, string> = {
  'entity.too.large': 'body_too_large',
  'encoding.unsupported': 'unsupported_content_encoding',
  'charset.unsupported': 'unsupported_charset',
  'entity.parse.failed': 'malformed_body',
  'entity.verify.failed': 'malformed_body',
  'request.aborted': 'request_aborted',
  'request.size.invalid': 'malformed_body',
  'stream.encoding.set': 'malformed_body',
  'stream.not.readable': 'malformed_body',
};

/**
 * Every error that reaches express ends here: a JSON answer with a status and a short code, never a
 * stack trace, a message or a file path (Express's default page shows them outside production).
 */
export function jsonErrorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const e = (err ?? {}) as { status?: unknown; statusCode?: unknown; type?: unknown; code?: unknown };
    const raw = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
    const status = raw >= 400 && raw < 600 ? raw : 500;
    const type = typeof e.type === 'string' ? e.type : undefined;
    // A bad gzip stream surfaces as a zlib error (Z_DATA_ERROR …) with status 400.
    const code = (type && CLIENT_ERRORS[type]) ?? (typeof e.code === 'string' && e.code.startsWith('Z_') ? 'malformed_body' : status < 500 ? 'bad_request' : 'internal');
    if (status >= 500) logger.error({ err: err instanceof Error ? err.message : String(err), path: req.path }, 'HTTP request failed');
    else logger.warn({ status, code, path: req.path, ip: req.ip }, 'HTTP request refused');
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(status).json({ error: code });
  };
}
