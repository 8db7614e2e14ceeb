import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs. Secrets never reach the log (redacted paths) and message bodies are only
 * logged at debug; every line about a ticket or an inbound event carries ticketId / eventId.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'ticketbot' },
      redact: {
        paths: ['token', 'secret', '*.token', '*.secret', '*.password', 'headers.authorization', 'env.SLACK_BOT_TOKEN', 'env.FEISHU_APP_SECRET'],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
