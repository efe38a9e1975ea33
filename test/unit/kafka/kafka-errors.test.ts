import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { IngressEgressError } from '../../../src/errors';
import { coordinatorGone, toKafkaError } from '../../../src/kafka/kafka-errors';

describe('toKafkaError', () => {
  it('makes connection failures retriable IE_KAFKA_UNAVAILABLE', () => {
    const e = toKafkaError(new KafkaJSConnectionError('Connection error: ECONNREFUSED'), 'publishing');
    expect(e).toBeInstanceOf(IngressEgressError);
    expect(e).toMatchObject({ code: 'IE_KAFKA_UNAVAILABLE', retriable: true });
    expect(e.message).toBe('publishing: Connection error: ECONNREFUSED');
    expect(e.details).toEqual({ kafkaError: 'KafkaJSConnectionError' });
  });

  it('treats exhausted retries as an outage', () => {
    const inner = new KafkaJSConnectionError('refused');
    expect(
      toKafkaError(new KafkaJSNumberOfRetriesExceeded(inner, { retryCount: 5, retryTime: 2000 }), 'x').retriable,
    ).toBe(true);
  });

  it("keeps a protocol error's own retriable flag and names its type", () => {
    const tooLarge = new KafkaJSProtocolError({
      type: 'MESSAGE_TOO_LARGE',
      code: 10,
      retriable: false,
      message: 'too large',
    } as never);
    expect(toKafkaError(tooLarge, 'x')).toMatchObject({
      code: 'IE_KAFKA_REJECTED',
      retriable: false,
      details: { kafkaError: 'KafkaJSProtocolError', kafkaErrorType: 'MESSAGE_TOO_LARGE' },
    });
    const notLeader = new KafkaJSProtocolError({
      type: 'NOT_LEADER_FOR_PARTITION',
      code: 6,
      retriable: true,
      message: 'not leader',
    } as never);
    expect(toKafkaError(notLeader, 'x').retriable).toBe(true);
  });

  it('never retries non-retriable kafkajs errors', () => {
    expect(toKafkaError(new KafkaJSNonRetriableError('bad'), 'x').retriable).toBe(false);
  });

  it('reports other errors as internal bugs and passes ours through', () => {
    expect(toKafkaError(new TypeError('oops'), 'x')).toMatchObject({ code: 'IE_INTERNAL', retriable: false });
    const ours = new IngressEgressError('IE_KAFKA_NOT_CONNECTED', 'no');
    expect(toKafkaError(ours, 'x')).toBe(ours);
  });
});

describe('toKafkaError under kafkajs retry wrappers', () => {
  it('judges by the root cause: a connection error that ran out of retries is retriable', () => {
    const root = new KafkaJSConnectionError('connect ECONNREFUSED');
    const exhausted = new KafkaJSNumberOfRetriesExceeded(root, { retryCount: 2, retryTime: 100 });
    // As kafkajs's retrier builds it: the root cause rides along as `cause`.
    const wrapped = Object.assign(new KafkaJSNonRetriableError(exhausted), { cause: root });
    expect(toKafkaError(wrapped, 'publishing')).toMatchObject({
      code: 'IE_KAFKA_UNAVAILABLE',
      retriable: true,
      details: { kafkaError: 'KafkaJSConnectionError' },
    });
  });

  it('keeps a non-retriable root cause non-retriable', () => {
    const tooLarge = new KafkaJSProtocolError({
      type: 'MESSAGE_TOO_LARGE',
      code: 10,
      retriable: false,
      message: 'too large',
    } as never);
    const wrapped = Object.assign(new KafkaJSNonRetriableError(tooLarge), { cause: tooLarge });
    expect(toKafkaError(wrapped, 'x')).toMatchObject({
      retriable: false,
      details: { kafkaErrorType: 'MESSAGE_TOO_LARGE' },
    });
  });
});

describe('coordinatorGone', () => {
  it("recognises a broker missing from the metadata, also as another error's cause", () => {
    const missing = Object.assign(new Error('Broker 2 not found in the cached metadata'), {
      name: 'KafkaJSBrokerNotFound',
    });
    expect(coordinatorGone(missing)).toBe(true);
    expect(coordinatorGone(Object.assign(new Error('commit failed'), { cause: missing }))).toBe(true);
    expect(coordinatorGone(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'))).toBe(false);
    expect(coordinatorGone(undefined)).toBe(false);
  });
});
