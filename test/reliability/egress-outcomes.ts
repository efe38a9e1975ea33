import type { InternalEventV2 } from '../../src/envelope';
import type { TopicFollower } from '../helpers/kafka-consumer';

/**
 * What the egress scenarios check at the end: the outcomes on the outcomes topic, grouped by the request they
 * answer (`causationId`). An outcome record can be published again with the same id (a redelivered request
 * answered from the ledger); two different outcome ids for one request would be two answers.
 */
export async function collectOutcomes(
  reader: TopicFollower,
  topic: string,
  requests: number,
  timeoutMs: number,
): Promise<InternalEventV2[]> {
  const outcomes: InternalEventV2[] = [];
  await reader
    .until(
      topic,
      (records) => {
        for (const r of records.slice(outcomes.length))
          outcomes.push(JSON.parse(r.value!.toString()) as InternalEventV2);
        return new Set(outcomes.map((o) => o.causationId)).size >= requests;
      },
      timeoutMs,
    )
    .catch(() => undefined);
  return outcomes;
}

export interface OutcomeCounts {
  /** Outcome records by request id. */
  byRequest: Map<string, InternalEventV2[]>;
  /** Requests with no outcome at all. */
  withoutOutcome: number;
  /** Requests answered by two or more distinct outcome ids. */
  twoOutcomeIds: number;
}

export function countOutcomes(
  requests: readonly { id: string }[],
  outcomes: readonly InternalEventV2[],
): OutcomeCounts {
  const byRequest = new Map<string, InternalEventV2[]>();
  for (const o of outcomes) byRequest.set(o.causationId!, [...(byRequest.get(o.causationId!) ?? []), o]);
  const withoutOutcome = requests.filter((r) => !byRequest.has(r.id)).length;
  const twoOutcomeIds = [...byRequest.values()].filter((os) => new Set(os.map((o) => o.id)).size > 1).length;
  return { byRequest, withoutOutcome, twoOutcomeIds };
}
