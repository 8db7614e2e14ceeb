/**
 * Slack's text formats, both ways (https://api.slack.com/reference/surfaces/formatting#escaping).
 *
 * Inbound: message and command text arrives escaped — `&amp;` `&lt;` `&gt;`, and `<…>` tokens for
 * mentions (`<@U123>`, `<!here>`, `<!channel>`, `<#C123|name>`, `<!subteam^S1|@team>`) and links
 * (`<https://x|label>`). `fromSlackText` turns it into the plain text a person meant, so it is
 * stored once, cut without splitting a token, and escaped once when shown.
 *
 * Outbound: every user text shown in mrkdwn (blocks and the notification `text`) goes through
 * `escapeMrkdwn`, so nobody can ping @channel or a person, or forge a link, through the bot.
 */

/** Plain text of a Slack-escaped message: mentions as `@name`, links as `label (url)`, entities decoded. */
export function fromSlackText(text: string): string {
  const out = text.replace(/<([^<>]*)>/g, (_all, inner: string) => {
    const bar = inner.indexOf('|');
    const target = bar === -1 ? inner : inner.slice(0, bar);
    const label = bar === -1 ? undefined : inner.slice(bar + 1);
    if (target.startsWith('@')) return label ? `@${label.replace(/^@/, '')}` : target;
    if (target.startsWith('#')) return label ? `#${label}` : target;
    if (target.startsWith('!')) {
      const [command = ''] = target.slice(1).split('^');
      if (command === 'date' || command === 'subteam') return label ?? `@${command}`;
      return label ?? `@${command}`;
    }
    const url = target.replace(/^mailto:/, '');
    if (!label || label === url || label === target) return url;
    return `${label} (${url})`;
  });
  return decodeEntities(out);
}

function decodeEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The longest prefix of whole characters (never half an emoji) whose length in UTF-16 units is at
 * most `max`. Slack counts limits in characters; counting an astral emoji as two is the reading
 * that can never exceed them.
 */
function prefixWithin(text: string, max: number): string {
  let out = '';
  for (const ch of text) {
    if (out.length + ch.length > max) break;
    out += ch;
  }
  return out;
}

/** Cuts to at most `max` characters (UTF-16 units, whole emoji only) with "…" at the end. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : prefixWithin(text, max - 1) + '…';
}

/**
 * Cuts mrkdwn like `truncate` without splitting an entity (`&amp;`) or a `<…>` token (a mention,
 * link or date): the cut moves back before such a token, then "…" is added.
 */
export function truncateMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = prefixWithin(text, max - 1);
  let cutAt = head.length;
  const lastLt = head.lastIndexOf('<');
  if (lastLt > head.lastIndexOf('>')) cutAt = lastLt;
  const lastAmp = head.lastIndexOf('&', cutAt - 1);
  if (lastAmp !== -1 && cutAt - lastAmp <= 8 && !head.slice(lastAmp, cutAt).includes(';')) cutAt = lastAmp;
  return head.slice(0, cutAt) + '…';
}
