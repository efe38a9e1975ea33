import type { SimulatorMessagingService, SimulatorPhoneNumber } from './options';

/**
 * The numbers and messaging services the simulated accounts own. With none
 * configured for an account, any well-formed sender is accepted (handy for
 * quick tests); once an account has numbers, `From` must be one of them.
 */
const DEFAULT_SENDER = '+15005550006';

export class NumberDirectory {
  private readonly numbers = new Map<string, SimulatorPhoneNumber & { accountSid: string }>();
  private readonly accountsWithNumbers = new Set<string>();
  private readonly services = new Map<string, SimulatorMessagingService & { accountSid: string }>();
  private readonly accountsWithServices = new Set<string>();

  constructor(
    numbers: readonly SimulatorPhoneNumber[],
    services: readonly SimulatorMessagingService[],
    defaultAccountSid: string,
  ) {
    for (const n of numbers) {
      const accountSid = n.accountSid ?? defaultAccountSid;
      this.numbers.set(n.phoneNumber, { ...n, accountSid });
      this.accountsWithNumbers.add(accountSid);
    }
    for (const s of services) {
      const accountSid = s.accountSid ?? defaultAccountSid;
      this.services.set(s.sid, { ...s, accountSid });
      this.accountsWithServices.add(accountSid);
    }
  }

  /** Whether `from` may send for the account (21606 otherwise). */
  canSendFrom(accountSid: string, from: string): boolean {
    if (!this.accountsWithNumbers.has(accountSid)) return true;
    return this.numbers.get(from)?.accountSid === accountSid;
  }

  /** Whether the messaging service exists for the account (21701 otherwise). */
  hasService(accountSid: string, sid: string): boolean {
    if (!this.accountsWithServices.has(accountSid)) return true;
    return this.services.get(sid)?.accountSid === accountSid;
  }

  /** The sender a messaging service picks (its first number, else the first number of the account). */
  senderFor(accountSid: string, serviceSid: string): string {
    const fromService = this.services.get(serviceSid)?.phoneNumbers?.[0];
    if (fromService) return fromService;
    for (const n of this.numbers.values()) {
      if (n.accountSid === accountSid && (n.messagingServiceSid === undefined || n.messagingServiceSid === serviceSid))
        return n.phoneNumber;
    }
    return DEFAULT_SENDER;
  }

  number(phoneNumber: string): (SimulatorPhoneNumber & { accountSid: string }) | undefined {
    return this.numbers.get(phoneNumber);
  }

  /** The service a number belongs to, from the number's own setting or a service listing it. */
  serviceOf(phoneNumber: string): string | undefined {
    const own = this.numbers.get(phoneNumber)?.messagingServiceSid;
    if (own) return own;
    for (const s of this.services.values()) if (s.phoneNumbers?.includes(phoneNumber)) return s.sid;
    return undefined;
  }
}
