import { ARTICLE_REPLY_MAX, articleReplyText, cardKnowledge, deflectOffer } from '../../src/chat/deflection';
import { t } from '../../src/chat/i18n';

/** The chat side of the knowledge base: the pieces every platform shares (src/chat/deflection.ts). */
describe('an article as the reply text', () => {
  it('puts the title first and turns the Markdown the platforms show raw into plain text', () => {
    const text = articleReplyText({
      title: '验证码收不到怎么办',
      body: '## 步骤\n\n1. 打开 **设置** › 短信\n2. 点 [重新发送](https://help.example.com/sms "tip")\n\n```\ncode block\n```\n\nSee `passwd` and ![图](https://img.example.com/x.png).',
    });
    expect(text).toBe('验证码收不到怎么办\n\n步骤\n\n1. 打开 设置 › 短信\n2. 点 重新发送 (https://help.example.com/sms)\n\ncode block\n\nSee passwd and 图 (https://img.example.com/x.png).');
  });

  it('cuts a long article at a line end with a visible "…", counting characters (not UTF-16 units)', () => {
    const body = Array.from({ length: 400 }, (_, i) => `第${i}行：🙂 说明文字`).join('\n');
    const text = articleReplyText({ title: 'Long', body });
    expect([...text].length).toBeLessThanOrEqual(ARTICLE_REPLY_MAX + 2);
    expect(text.endsWith('\n…')).toBe(true);
    expect(text.split('\n').at(-2)).toMatch(/说明文字$/);
    // Short articles are left whole.
    expect(articleReplyText({ title: 'T', body: 'b' })).toBe('T\n\nb');
  });
});

describe('the knowledge part of a card', () => {
  const suggested = [
    { id: 'a1', slug: 'a1', title: 'One', lang: 'en', retired: false },
    { id: 'a2', slug: 'a2', title: 'Gone', lang: 'en', retired: true },
  ];
  it('offers Send as reply while the ticket can be replied to, Save as answer once resolved or closed', () => {
    expect(cardKnowledge({ suggested }, 'in_progress', 'en')).toEqual({ title: t('en', 'ui.card.suggested_articles'), articles: [{ id: 'a1', title: 'One' }], sendLabel: t('en', 'ui.card.send_article'), saveAnswerLabel: null });
    expect(cardKnowledge({ suggested }, 'resolved', 'zh-CN')).toMatchObject({ sendLabel: t('zh-CN', 'ui.card.send_article'), saveAnswerLabel: t('zh-CN', 'ui.action.save_answer') });
    expect(cardKnowledge({}, 'closed', 'en')).toMatchObject({ articles: [], sendLabel: null, saveAnswerLabel: t('en', 'ui.action.save_answer') });
  });

  it('labels an offer in the reader’s language', () => {
    expect(deflectOffer('zh-CN', 'd1', [{ id: 'a', title: 'T', excerpt: 'E' }])).toEqual({
      deflectionId: 'd1',
      title: t('zh-CN', 'chat.deflect.title'),
      hint: t('zh-CN', 'chat.deflect.more'),
      articles: [{ id: 'a', title: 'T', excerpt: 'E' }],
      solvedLabel: '已解决',
      stillLabel: '仍需帮助',
    });
  });
});
