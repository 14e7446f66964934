import { describe, expect, it } from 'vitest';
import { ACTIVITY_TYPES } from '../../src/application/ports/activity-feed.js';
import { buildOpenApiDocument } from '../../src/infrastructure/http/openapi.js';

/* The activity timeline's entry as /openapi.json describes it: every kind an entry can be, and the billing fields (issue 9). */

type Schema = { type?: string; enum?: string[]; properties?: Record<string, Schema>; required?: string[]; $ref?: string; items?: Schema };

describe('the activity entry in the OpenAPI document', () => {
  const doc = buildOpenApiDocument({ bodyLimitBytes: 64 * 1024 }) as { components: { schemas: Record<string, Schema> } };
  const schemas = doc.components.schemas;
  const page = schemas['ActivityPage']!;
  const items = page.properties!['data']!.items!;
  const entry = items.$ref ? schemas[items.$ref.split('/').at(-1)!]! : items;

  it('lists every entry type, subscriptions and invoices included', () => {
    expect(entry.properties!['type']!.enum).toEqual([...ACTIVITY_TYPES]);
    expect(entry.properties!['type']!.enum).toEqual(expect.arrayContaining(['subscription.created', 'subscription.renewed', 'invoice.issued', 'invoice.paid', 'invoice.payment_failed']));
  });

  it('has the billing fields, optional, and no longer requires an amount (an entry about a pause names none)', () => {
    for (const field of ['subscriptionId', 'invoiceId', 'status', 'billingReason', 'periodStart', 'periodEnd']) expect(entry.properties, field).toHaveProperty(field);
    expect(entry.properties!['status']!.enum).toEqual(expect.arrayContaining(['active', 'past_due', 'paid', 'void']));
    expect(entry.properties!['billingReason']!.enum).toEqual(['subscription_create', 'subscription_cycle', 'subscription_update', 'subscription_resume']);
    expect(entry.required).toEqual(expect.arrayContaining(['id', 'type', 'occurredAt', 'position', 'summary']));
    expect(entry.required).not.toContain('amount');
    expect(entry.required).not.toContain('currency');
  });
});
