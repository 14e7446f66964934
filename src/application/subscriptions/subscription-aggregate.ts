import type { InvoiceCommand, InvoiceError, InvoiceEvent, InvoiceState } from '../../domain/invoice/index.js';
import { CURRENT_INVOICE_SCHEMA_VERSION, decideInvoice, evolveInvoice, initialInvoiceState, upcastInvoiceEvent } from '../../domain/invoice/index.js';
import type { SubscriptionCommand, SubscriptionError, SubscriptionEvent, SubscriptionState } from '../../domain/subscription/index.js';
import {
  CURRENT_SUBSCRIPTION_SCHEMA_VERSION,
  decideSubscription,
  evolveSubscription,
  initialSubscriptionState,
  upcastSubscriptionEvent,
} from '../../domain/subscription/index.js';
import type { TestClockCommand, TestClockError, TestClockEvent, TestClockState } from '../../domain/test-clock/test-clock.js';
import { decideTestClock, evolveTestClock, upcastTestClockEvent } from '../../domain/test-clock/test-clock.js';
import type { AggregateType } from '../aggregates/aggregate-stream.js';

/** The subscription as decideAndAppend runs it. */
export const SUBSCRIPTION: AggregateType<SubscriptionState, SubscriptionEvent, SubscriptionCommand, SubscriptionError> = {
  initial: initialSubscriptionState,
  evolve: evolveSubscription,
  decide: decideSubscription,
  upcast: upcastSubscriptionEvent,
  schemaVersion: CURRENT_SUBSCRIPTION_SCHEMA_VERSION,
};

/** The invoice as decideAndAppend runs it. */
export const INVOICE: AggregateType<InvoiceState, InvoiceEvent, InvoiceCommand, InvoiceError> = {
  initial: initialInvoiceState,
  evolve: evolveInvoice,
  decide: decideInvoice,
  upcast: upcastInvoiceEvent,
  schemaVersion: CURRENT_INVOICE_SCHEMA_VERSION,
};

/** A test clock as decideAndAppend runs it. */
export const TEST_CLOCK: AggregateType<TestClockState, TestClockEvent, TestClockCommand, TestClockError> = {
  initial: { exists: false },
  evolve: evolveTestClock,
  decide: decideTestClock,
  upcast: (type, data) => upcastTestClockEvent(type, data),
  schemaVersion: 1,
};
