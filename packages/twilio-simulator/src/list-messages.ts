import { renderMessage, type SimMessage } from './message';
import type { DateSentFilter, MessageStore } from './message-store';
import { twilioError, type TwilioErrorBody } from './twilio-errors';

/**
 * `GET …/Messages.json`: Twilio's filters (To, From, DateSent, DateSent<,
 * DateSent>) and paging. Pages are newest first; `next_page_uri` carries a
 * PageToken (`PA` + the last SID shown) so a page stays stable while new
 * messages arrive, as Twilio's does; `previous_page_uri` uses `PB` + the first.
 */
export const MAX_PAGE_SIZE = 1000;

type ListResult = { ok: true; body: Record<string, unknown> } | { ok: false; error: TwilioErrorBody };

const DAY_MS = 24 * 60 * 60 * 1000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

function parseDate(raw: string): { ms: number; dateOnly: boolean } | undefined {
  const dateOnly = DATE_ONLY.test(raw);
  const ms = Date.parse(dateOnly ? `${raw}T00:00:00Z` : raw);
  return Number.isFinite(ms) ? { ms, dateOnly } : undefined;
}

function dateSentFilter(q: URLSearchParams): DateSentFilter | TwilioErrorBody | undefined {
  const f: DateSentFilter = {};
  let any = false;
  for (const name of ['DateSent', 'DateSent<', 'DateSent>'] as const) {
    const raw = q.get(name);
    if (raw === null || raw === '') continue;
    const d = parseDate(raw);
    if (!d) return twilioError(20001, `Invalid ${name}: ${raw} is not a date (YYYY-MM-DD or ISO 8601).`);
    any = true;
    const dayStart = Math.floor(d.ms / DAY_MS) * DAY_MS;
    // A bare date means the whole UTC day, as Twilio reads `DateSent<=YYYY-MM-DD`.
    if (name === 'DateSent') f.on = { start: dayStart, end: dayStart + DAY_MS };
    else if (name === 'DateSent<') f.before = d.dateOnly ? dayStart + DAY_MS - 1 : d.ms;
    else f.after = d.ms;
  }
  return any ? f : undefined;
}

function pageUri(path: string, filters: [string, string][], pageSize: number, page: number, token?: string): string {
  const q = new URLSearchParams(filters);
  q.set('PageSize', String(pageSize));
  q.set('Page', String(page));
  if (token) q.set('PageToken', token);
  return `${path}?${q.toString()}`;
}

export function listMessages(
  store: MessageStore,
  accountSid: string,
  path: string,
  rawQuery: string,
  defaultPageSize: number,
): ListResult {
  const q = new URLSearchParams(rawQuery);
  const dateSent = dateSentFilter(q);
  if (dateSent && 'code' in dateSent) return { ok: false, error: dateSent };
  const to = q.get('To') || undefined;
  const from = q.get('From') || undefined;
  const rawSize = Number(q.get('PageSize') ?? defaultPageSize);
  const pageSize = Number.isInteger(rawSize) && rawSize > 0 ? Math.min(rawSize, MAX_PAGE_SIZE) : defaultPageSize;
  const rawPage = Number(q.get('Page') ?? 0);
  const page = Number.isInteger(rawPage) && rawPage >= 0 ? rawPage : 0;
  const token = q.get('PageToken') ?? '';

  const all = store.list({ accountSid, to, from, ...(dateSent ? { dateSent } : {}) });
  let startIndex = page * pageSize;
  const anchor = token.length > 2 ? all.findIndex((m) => m.sid === token.slice(2)) : -1;
  if (token.startsWith('PA') && anchor >= 0) startIndex = anchor + 1;
  else if (token.startsWith('PB') && anchor >= 0) startIndex = Math.max(0, anchor - pageSize);
  const items: SimMessage[] = all.slice(startIndex, startIndex + pageSize);

  const filters: [string, string][] = [];
  for (const name of ['To', 'From', 'DateSent', 'DateSent<', 'DateSent>']) {
    const v = q.get(name);
    if (v !== null && v !== '') filters.push([name, v]);
  }
  const hasMore = startIndex + items.length < all.length;
  const last = items[items.length - 1];
  const first = items[0];
  const start = page * pageSize;
  return {
    ok: true,
    body: {
      end: items.length === 0 ? start : start + items.length - 1,
      first_page_uri: pageUri(path, filters, pageSize, 0),
      messages: items.map(renderMessage),
      next_page_uri: hasMore && last ? pageUri(path, filters, pageSize, page + 1, `PA${last.sid}`) : null,
      page,
      page_size: pageSize,
      previous_page_uri: page > 0 && first ? pageUri(path, filters, pageSize, page - 1, `PB${first.sid}`) : null,
      start,
      uri: pageUri(path, filters, pageSize, page, token || undefined),
    },
  };
}
