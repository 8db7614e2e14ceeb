import type { HeadlineMetric } from '../domain/metrics';
import type { Locale, LocalizedText } from '../domain/types';

/**
 * The one written definition of each headline metric, in both languages. The dashboard's "?",
 * `ticketbot docs` and `/ticket policy` all print this text, so what a figure means is said the
 * same way everywhere; change it here and nowhere else. The wording follows
 * docs (semantics.md "Metrics") and what src/domain/metrics.ts computes.
 */
export const METRIC_DEFINITIONS: Record<HeadlineMetric, LocalizedText> = {
  first_response: {
    en: 'Mean business time from a ticket being created to the first public reply by an agent, over tickets first answered in the period. Measured on the calendar of the ticket\'s SLA clock (nights, weekends and holidays do not count).',
    'zh-CN': '本期内首次得到答复的工单,从创建到客服第一次公开回复所用的平均工作时间。按工单 SLA 时钟所用日历计算(夜间、周末和节假日不计)。',
  },
  resolution: {
    en: 'Mean business time from creation to resolution, over tickets resolved in the period and not reopened since.',
    'zh-CN': '本期内解决(且之后未重新打开)的工单,从创建到解决所用的平均工作时间。',
  },
  first_contact_resolution: {
    en: 'Share of tickets resolved in the period with exactly one public reply and never reopened.',
    'zh-CN': '本期内解决的工单中,只公开回复一次且从未重新打开的比例。',
  },
  on_time: {
    en: 'Share of SLA and handoff clocks completed in the period that were met without ever breaching (first response, resolution, handoff accept and resolve).',
    'zh-CN': '本期内结束的 SLA 与转交时钟(首次响应、解决、转交接受与处理)中,从未超时而按时完成的比例。',
  },
  return_rate: {
    en: 'Share of tickets handed off to another department in the period that had a handoff returned.',
    'zh-CN': '本期内被转交给其他部门的工单中,至少有一次转交被退回的比例。',
  },
  csat: {
    en: 'Share of satisfaction answers in the period that scored 4 or 5 (of 5).',
    'zh-CN': '本期内收到的满意度评价中,给出 4 分或 5 分(满分 5 分)的比例。',
  },
};

export function metricDefinition(metric: HeadlineMetric, locale: Locale): string {
  return METRIC_DEFINITIONS[metric][locale];
}

/** The self-service rate (issue 18), reported beside the six; computed in ./self-service. */
export const SELF_SERVICE_DEFINITION: LocalizedText = {
  en: 'Of the offers of knowledge-base articles made before a ticket in the period (chat, API, web form) that the requester answered, the share answered "Solved" — answered by an article, no ticket raised — rather than "Still need help" (a ticket raised). Offers left unanswered do not count. Sensitive categories and categories with deflect: false never offer articles. Per article: views (times shown), solved (times it was the answer), still need help (tickets raised after it was shown).',
  'zh-CN': '本期内在提交工单前推荐知识库文章(聊天、API、网页表单)且提单人作出回应的次数中,选择“已解决”(由文章解答,未创建工单)而非“仍需帮助”(创建了工单)的比例。未回应的推荐不计入。敏感分类及设置 deflect: false 的分类不推荐文章。按文章统计:展示次数、解决次数(作为答案的次数)、仍需帮助次数(展示后仍创建工单的次数)。',
};

export function selfServiceDefinition(locale: Locale): string {
  return SELF_SERVICE_DEFINITION[locale];
}

/**
 * The workflow figures shown beside the six (issue 17): how often a category was wrong, and how
 * often people escalated by hand. Same rule as above: the one text, wherever it is shown.
 */
export const WORKFLOW_FIGURES = ['misrouting_rate', 'manual_escalations'] as const;
export type WorkflowFigure = (typeof WORKFLOW_FIGURES)[number];

export const WORKFLOW_DEFINITIONS: Record<WorkflowFigure, LocalizedText> = {
  misrouting_rate: {
    en: 'Per category: the share of tickets raised in that category in the period whose category a member later corrected to one of another department (recategorised, moved as a handoff with reason "miscategorised").',
    'zh-CN': '按分类:本期内以该分类提交的工单中,后来被成员改为其他部门的分类(改分类并以"miscategorised"原因转交)的比例。',
  },
  manual_escalations: {
    en: 'Number of times in the period a member or the requester escalated a ticket by hand ("this is urgent"), whether or not the priority was raised.',
    'zh-CN': '本期内成员或提单人手动升级工单("这很紧急")的次数,无论是否提高了优先级。',
  },
};

export function workflowDefinition(figure: WorkflowFigure, locale: Locale): string {
  return WORKFLOW_DEFINITIONS[figure][locale];
}
