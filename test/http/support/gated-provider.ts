import type {
  AuthorizeRequest,
  AuthorizeResult,
  PaymentProvider,
  ProviderActionResult,
  ProviderRefundRequest,
  ProviderRefundResult,
} from '../../../src/application/ports/payment-provider.js';
import { ProviderUnavailable } from '../../../src/application/ports/payment-provider.js';
import { SimulatedPaymentProvider } from '../../../src/infrastructure/simulated-provider/simulated-payment-provider.js';

export interface Gate {
  /** Resolves when a call has reached the gate (the request is now in flight). */
  readonly entered: Promise<void>;
  /** Lets the held call continue. */
  release(): void;
}

/** The simulated provider, with a gate to hold the next authorize and a switch to be unavailable. */
export class GatedProvider implements PaymentProvider {
  readonly name = 'gated-simulated';
  authorizeCalls = 0;
  unavailable = false;
  private readonly inner = new SimulatedPaymentProvider();
  private pending: { enter: () => void; released: Promise<void> } | undefined;

  holdNextAuthorize(): Gate {
    let enter!: () => void;
    let release!: () => void;
    const entered = new Promise<void>((r) => (enter = r));
    const released = new Promise<void>((r) => (release = r));
    this.pending = { enter, released };
    return { entered, release };
  }

  async authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    this.authorizeCalls++;
    const gate = this.pending;
    if (gate) {
      this.pending = undefined;
      gate.enter();
      await gate.released;
    }
    if (this.unavailable) throw new ProviderUnavailable('connect ECONNREFUSED 10.0.0.7:443');
    return this.inner.authorize(request);
  }

  capture(request: { providerPaymentId: string; amount: number; currency: string; idempotencyKey: string }): Promise<ProviderActionResult> {
    if (this.unavailable) return Promise.reject(new ProviderUnavailable('connect ECONNREFUSED 10.0.0.7:443'));
    return this.inner.capture(request);
  }

  cancel(request: { providerPaymentId: string; reason: string | null; idempotencyKey: string }): Promise<ProviderActionResult> {
    if (this.unavailable) return Promise.reject(new ProviderUnavailable('connect ECONNREFUSED 10.0.0.7:443'));
    return this.inner.cancel(request);
  }

  refund(request: ProviderRefundRequest): Promise<ProviderRefundResult> {
    if (this.unavailable) return Promise.reject(new ProviderUnavailable('connect ECONNREFUSED 10.0.0.7:443'));
    return this.inner.refund(request);
  }

  retrieveRefund(providerRefundId: string): Promise<ProviderRefundResult> {
    if (this.unavailable) return Promise.reject(new ProviderUnavailable('connect ECONNREFUSED 10.0.0.7:443'));
    return this.inner.retrieveRefund(providerRefundId);
  }

  retrievePayment(providerPaymentId: string): ReturnType<PaymentProvider['retrievePayment']> {
    return this.inner.retrievePayment(providerPaymentId);
  }

  retrieveDispute(providerDisputeId: string): ReturnType<PaymentProvider['retrieveDispute']> {
    return this.inner.retrieveDispute(providerDisputeId);
  }

  retrieveRefundDetails(providerRefundId: string): ReturnType<PaymentProvider['retrieveRefundDetails']> {
    return this.inner.retrieveRefundDetails(providerRefundId);
  }
}
