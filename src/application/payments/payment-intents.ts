import type { PaymentCommand, PaymentEvent, PaymentRequested, PaymentCaptureRequested, PaymentCancelRequested } from '../../domain/payment/index.js';
import { PAYMENT_REQUEST_EVENT_TYPES, decide, fold } from '../../domain/payment/index.js';
import { CURRENT_SCHEMA_VERSION } from '../../domain/payment/upcast.js';
import { paymentStream } from '../../domain/ids.js';
import type { PaymentId } from '../../domain/ids.js';
import type { Result } from '../../domain/result.js';
import { err, ok } from '../../domain/result.js';
import type { CommandContext } from '../command-context.js';
import { commandMetadata } from '../command-context.js';
import type { Clock } from '../ports/clock.js';
import type { EventStore, NewEvent, RecordedEvent, StreamRevision } from '../ports/event-store.js';
import { WrongExpectedVersion, streamRevision } from '../ports/event-store.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { PaymentProvider } from '../ports/payment-provider.js';
import { ProviderUnavailable } from '../ports/payment-provider.js';
import type { PaymentCommandError } from './payment-command-errors.js';
import type { LoadedPayment, WrittenPayment } from './payment-stream.js';
import { asWrittenBy, assertExists, loadPayment, toDomainEvent } from './payment-stream.js';
import { toPaymentView } from './payment-view.js';

/*
 * Intent first (docs/architecture.md, "Payments: intent first"). Every payment command that
 * reaches the processor is two appends around the call: the request event (PaymentRequested,
 * PaymentCaptureRequested, PaymentCancelRequested) carries the processor idempotency key,
 * then the call, then the outcome. A crash, a timeout or an outage between them leaves the
 * request pending in the log, never money moved that the log does not know of.
 *
 * Completing a pending request is this one function, whoever runs it: the command that wrote
 * the request, a retry of that command under the same Idempotency-Key, or the completer
 * (payment-intent-completer.ts). All ask the processor with the key the request recorded,
 * so it answers them all the same, and all write the outcome under ids derived from the
 * request event's id, so whichever appends second is recognised as the same write.
 */

export type PaymentRequestEvent = PaymentRequested | PaymentCaptureRequested | PaymentCancelRequested;

/** A pending request as the log holds it. */
export interface PendingRequest {
  readonly recorded: RecordedEvent;
  readonly event: PaymentRequestEvent;
}

export const isPaymentRequestEventType = (type: string): boolean => (PAYMENT_REQUEST_EVENT_TYPES as readonly string[]).includes(type);

/** The request event whose operation is pending in `loaded`, or undefined when none is. */
export function pendingRequestOf(loaded: LoadedPayment): PendingRequest | undefined {
  if (!loaded.state.exists || !loaded.state.pendingOperation) return undefined;
  for (let i = loaded.recorded.length - 1; i >= 0; i--) {
    const recorded = loaded.recorded[i] as RecordedEvent;
    if (isPaymentRequestEventType(recorded.type)) return { recorded, event: toDomainEvent(recorded) as PaymentRequestEvent };
  }
  throw new Error(`payment ${loaded.state.paymentId} has a pending ${loaded.state.pendingOperation.operation} but no request event`);
}

/** Appends of one outcome that kept meeting concurrent writers before it gave up (they are rare: a pending payment refuses commands). */
export const MAX_OUTCOME_APPEND_ATTEMPTS = 5;

/**
 * What a request's outcome answers: the payment as the outcome left it, or the refusal the
 * processor gave (which is an error to the caller, but a recorded end of the request).
 */
export type OutcomeAnswer = Result<WrittenPayment & { readonly replayed: boolean; readonly outcomeRecorded?: boolean }, PaymentCommandError>;

export type CompletionResult =
  | { readonly kind: 'answered'; readonly answer: OutcomeAnswer }
  /** The processor could not be reached: the request stays pending, for a retry or the completer. */
  | { readonly kind: 'unavailable'; readonly message: string }
  /** Someone else ended the request with another outcome (a provider sync): nothing to write. */
  | { readonly kind: 'not_pending' };

/** Who writes the outcome: the metadata of its events, and the idempotency record that may ride with them. */
export interface OutcomeWriter {
  readonly ctx: CommandContext;
}

export class PaymentIntents {
  constructor(
    private readonly store: EventStore,
    private readonly provider: PaymentProvider,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  /** The id of the `index`-th event of the outcome of the request `requestEventId`. */
  outcomeEventId(requestEventId: string, index: number): string {
    return this.ids.uuidFrom(`${requestEventId}\u0000outcome\u0000${index}`);
  }

  /** The answer the outcome of `request` gave, when `loaded` holds it; undefined while it is pending. */
  recordedAnswer(loaded: LoadedPayment, requestEventId: string): OutcomeAnswer | undefined {
    const written = asWrittenBy(loaded, (i) => this.outcomeEventId(requestEventId, i));
    if (!written) return undefined;
    const first = loaded.recorded.find((e) => e.id === this.outcomeEventId(requestEventId, 0));
    return answerOf(first ? toDomainEvent(first) : undefined, { ...written, replayed: true });
  }

  /** Loads the payment and completes its pending request, if it has one (the completer's entry). */
  async completePending(paymentId: PaymentId, writer: (request: PendingRequest) => OutcomeWriter): Promise<CompletionResult> {
    const loaded = await loadPayment(this.store, paymentStream(paymentId));
    const request = pendingRequestOf(loaded);
    if (!request) return { kind: 'not_pending' };
    return this.complete(loaded, request, writer(request));
  }

  /**
   * Asks the processor what `request` asks (with its recorded key) and appends the outcome
   * after it. `loaded` is the stream with the request pending (the caller's own, or as read).
   */
  async complete(loaded: LoadedPayment, request: PendingRequest, writer: OutcomeWriter): Promise<CompletionResult> {
    let outcome: PaymentCommand;
    try {
      outcome = await this.askProcessor(loaded, request);
    } catch (error) {
      if (error instanceof ProviderUnavailable) return { kind: 'unavailable', message: error.message };
      throw error;
    }
    const stream = paymentStream(request.event.data.paymentId);
    let current = loaded;
    for (let attempt = 1; attempt <= MAX_OUTCOME_APPEND_ATTEMPTS; attempt++) {
      const decision = decide(current.state, outcome);
      if (!decision.ok) {
        if (decision.error.code === 'no_operation_pending') return { kind: 'not_pending' };
        throw new Error(`stream ${stream}: the outcome of ${request.recorded.id} was refused (${decision.error.code})`);
      }
      try {
        return { kind: 'answered', answer: await this.append(stream, current, request, decision.value, writer) };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersion)) throw error;
      }
      // Someone wrote meanwhile: the same outcome (a racing retry or completer), or something else.
      current = await loadPayment(this.store, stream);
      const answered = this.recordedAnswer(current, request.recorded.id);
      if (answered) return { kind: 'answered', answer: answered };
      if (pendingRequestOf(current)?.recorded.id !== request.recorded.id) return { kind: 'not_pending' };
    }
    throw new Error(`stream ${stream}: the outcome of ${request.recorded.id} kept meeting concurrent writes (${MAX_OUTCOME_APPEND_ATTEMPTS} attempts)`);
  }

  /** The processor's answer to the request, as the command that records it. */
  private async askProcessor(loaded: LoadedPayment, request: PendingRequest): Promise<PaymentCommand> {
    const state = assertExists(loaded.state);
    const { event } = request;
    const paymentId = state.paymentId;
    switch (event.type) {
      case 'PaymentRequested': {
        const { providerKey, ...details } = event.data;
        const authorization = await this.provider.authorize({ ...details, idempotencyKey: providerKey });
        return { type: 'RecordAuthorization', paymentId, authorization };
      }
      case 'PaymentCaptureRequested': {
        if (!state.providerPaymentId) throw new Error(`payment ${paymentId}: a capture was requested of an authorization the processor never named`);
        const result = await this.provider.capture({
          providerPaymentId: state.providerPaymentId,
          amount: event.data.amount,
          currency: event.data.currency,
          idempotencyKey: event.data.providerKey,
        });
        return { type: 'RecordOperationOutcome', paymentId, operation: 'capture', outcome: result };
      }
      case 'PaymentCancelRequested': {
        if (!state.providerPaymentId) throw new Error(`payment ${paymentId}: a cancel was requested of an authorization the processor never named`);
        const result = await this.provider.cancel({ providerPaymentId: state.providerPaymentId, reason: event.data.reason, idempotencyKey: event.data.providerKey });
        return { type: 'RecordOperationOutcome', paymentId, operation: 'cancel', outcome: result };
      }
    }
  }

  private async append(
    stream: string,
    before: LoadedPayment,
    request: PendingRequest,
    events: readonly PaymentEvent[],
    writer: OutcomeWriter,
  ): Promise<OutcomeAnswer> {
    const { ctx } = writer;
    const occurredAt = this.clock.now().toISOString();
    const newEvents: NewEvent[] = events.map((e, i) => ({
      id: this.outcomeEventId(request.recorded.id, i),
      type: e.type,
      data: e.data,
      metadata: { ...commandMetadata(ctx, occurredAt, CURRENT_SCHEMA_VERSION), causationId: request.recorded.id },
    }));
    if (before.revision === undefined) throw new Error(`stream ${stream}: a pending request in a stream with no revision`);
    const expected: StreamRevision = before.revision;
    const state = assertExists(fold(events, before.state));
    const decided = streamRevision(expected + BigInt(events.length));
    const createdAt = before.createdAt ?? occurredAt;
    const payment = toPaymentView(state, decided, createdAt, occurredAt);
    const [first] = events;
    // The key's record rides with the outcome (not with the request): it is the answer. A refusal is recorded by the caller, as any error.
    const record = refusalOf(first) ? undefined : ctx.idempotency?.recordPaymentAnswer?.({ payment, revision: decided });
    const appended = await this.store.append(stream, newEvents, expected, record ? { recordOutcome: record } : undefined);
    if (appended.replayed) {
      // A racing completion wrote this very outcome first: answer what it wrote.
      const answered = this.recordedAnswer(await loadPayment(this.store, stream), request.recorded.id);
      if (answered) return answered;
      throw new Error(`stream ${stream}: the store recognised a re-append that the stream does not show`);
    }
    if (appended.nextExpectedRevision !== decided) {
      throw new Error(`stream ${stream}: appended at revision ${appended.nextExpectedRevision}, decided at ${decided}`);
    }
    return answerOf(first, {
      payment,
      revision: decided,
      position: appended.position,
      replayed: false,
      ...(appended.outcomeRecorded === true ? { outcomeRecorded: true } : {}),
    });
  }
}

/** A refusal the processor gave is the caller's error, from the log as from the call: a retry answers the same. */
function refusalOf(first: PaymentEvent | undefined): PaymentCommandError | undefined {
  if (first?.type === 'PaymentFailed' && first.data.invalidParam !== undefined) {
    return { code: 'provider_invalid_request', param: first.data.invalidParam, message: first.data.failureMessage };
  }
  if (first?.type === 'PaymentOperationRefused') {
    return { code: 'provider_failed', providerCode: first.data.failureCode, message: first.data.failureMessage };
  }
  return undefined;
}

function answerOf(first: PaymentEvent | undefined, written: WrittenPayment & { readonly replayed: boolean; readonly outcomeRecorded?: boolean }): OutcomeAnswer {
  const refusal = refusalOf(first);
  return refusal ? err(refusal) : ok(written);
}
