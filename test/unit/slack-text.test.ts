import { draftFromText } from '../../src/slack/intake';
import { noticeMessage } from '../../src/slack/presenters';
import { escapeMrkdwn, fromSlackText, truncateMrkdwn } from '../../src/slack/text';

/** https://api.slack.com/reference/surfaces/formatting#escaping — inbound text is escaped, outbound must be. */
describe('Slack text both ways', () => {
  it('reads inbound (escaped) text as the plain text a person wrote', () => {
    expect(fromSlackText('Tom &amp; Jerry &lt;3 &gt; x')).toBe('Tom & Jerry <3 > x');
    expect(fromSlackText('ping <@U0123> and <@U0456|rita>')).toBe('ping @U0123 and @rita');
    expect(fromSlackText('<!channel> <!here> <!everyone> <!subteam^S1|@it-team>')).toBe('@channel @here @everyone @it-team');
    expect(fromSlackText('see <#C0GEN|general>')).toBe('see #general');
    expect(fromSlackText('docs <https://ex.com/a?b=1&amp;c=2|the page> and <https://ex.com>')).toBe('docs the page (https://ex.com/a?b=1&c=2) and https://ex.com');
    expect(fromSlackText('<mailto:a@b.c|a@b.c>')).toBe('a@b.c');
  });

  it('a draft from an inbound message is not escaped twice (the card would show &amp;amp;)', () => {
    const d = draftFromText('VPN &amp; Wi-Fi down &lt;again&gt; <@U0123>\nsecond line');
    expect(d.title).toBe('VPN & Wi-Fi down <again> @U0123');
    expect(d.description).toContain('second line');
  });

  it('the title cut never splits a mention, link or entity', () => {
    const long = `${'x'.repeat(95)} <https://example.com/very/long|label> &amp;&amp;`;
    const d = draftFromText(long);
    expect(d.title).not.toMatch(/<|&amp|&a$/);
    expect([...d.title]).toHaveLength(100);
  });

  it('escapes user text shown in mrkdwn so <!channel> cannot ping', () => {
    expect(escapeMrkdwn('<!channel> & <@U1>')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt;');
    const notice = noticeMessage('hello <!channel>', { locale: 'en' });
    expect(notice.text).not.toContain('<!channel>');
    expect(JSON.stringify(notice.blocks)).not.toContain('<!channel>');
  });

  it('cuts mrkdwn before an entity or a <…> token, never inside one', () => {
    expect(truncateMrkdwn(`${'a'.repeat(8)}&amp;bbbb`, 11)).toBe(`${'a'.repeat(8)}…`);
    expect(truncateMrkdwn(`abc <@U0123456> tail`, 10)).toBe('abc …');
    expect(truncateMrkdwn('short', 10)).toBe('short');
    expect(truncateMrkdwn('😀'.repeat(20), 10)).toBe('😀😀😀😀…');
  });
});
