import { ErrCode, type PresenceEvent, Route } from "../../../protocol";
import { AppServerClient, ImApiError } from "../../../sdk/appserver";

/** One delivery the console's webhook receiver kept, as POST /console/events lists it. */
export interface Delivery {
  receivedAt: number;
  events: PresenceEvent[];
}

interface Envelope {
  errCode: number;
  errMsg: string;
  data?: unknown;
}

function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== "object" || value === null) return false;
  const { errCode, errMsg } = value as Partial<Record<keyof Envelope, unknown>>;
  return typeof errCode === "number" && typeof errMsg === "string";
}

/**
 * The worker as the console reaches it: the AppServer routes through the SDK,
 * with the secret typed into the page, and the console's own list of webhook
 * deliveries. The secret stays in the page's memory and goes only to this worker.
 */
export class ConsoleApi {
  constructor(private readonly secretInput: HTMLInputElement) {}

  /** The secret as typed now. */
  get secret(): string {
    return this.secretInput.value;
  }

  onSecretChange(listener: () => void): void {
    this.secretInput.addEventListener("change", listener);
  }

  /** A client for the AppServer routes with the secret typed now; it may differ by the next call. */
  appServer(): AppServerClient {
    return new AppServerClient({ baseUrl: location.origin, secret: this.secret });
  }

  /** Where client sessions connect. */
  socketUrl(): string {
    return new URL(Route.connectWs.path, location.href).href;
  }

  /** POST /console/events with `secret`; an answer other than errCode 0 is thrown as the SDK's ImApiError. */
  async deliveries(secret: string): Promise<Delivery[]> {
    const route = Route.consoleEvents.path;
    const response = await fetch(route, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ secret }),
    });
    const body: unknown = await response.json().catch(() => undefined);
    if (!isEnvelope(body)) throw new ImApiError(response.status, response.status, "not an API answer", route);
    if (body.errCode !== ErrCode.ok) throw new ImApiError(body.errCode, response.status, body.errMsg, route);
    if (!Array.isArray(body.data)) throw new ImApiError(ErrCode.internal, response.status, "no data", route);
    // The worker's own answer (src/routes/console.ts); only its outline is checked.
    return body.data as Delivery[];
  }
}
