import type { PresenceEvent, StateEvent } from "../../../protocol";
import { ErrCode, isImApiError } from "../../../sdk/appserver";
import type { Delivery } from "./api";
import { cell, tableBody } from "./dom";
import type { Panel } from "./panel";
import { describeCustomStatus, describePlatforms } from "./presence-text";

const REFRESH_MS = 2_000;

/**
 * "Presence webhooks": what the console's own receiver kept, newest first,
 * asked for with the secret every 2 s. A secret that was refused is not sent
 * again, which would only spend its rate limit, until another is typed.
 */
export const webhookEventsPanel: Panel = ({ api }) => {
  const rows = tableBody("events-table");
  let refusedSecret = "";

  async function refresh(): Promise<void> {
    const secret = api.secret;
    if (!secret || secret === refusedSecret) return;
    let deliveries: Delivery[];
    try {
      deliveries = await api.deliveries(secret);
    } catch (error) {
      if (isImApiError(error, ErrCode.notAuthorized)) refusedSecret = secret;
      return; // the next refresh tries again
    }
    rows.replaceChildren(...deliveries.flatMap(renderDelivery));
  }

  setInterval(() => void refresh(), REFRESH_MS);
};

function renderDelivery(delivery: Delivery): HTMLTableRowElement[] {
  return delivery.events.map((event) => {
    const row = document.createElement("tr");
    row.dataset.user = event.userID;
    row.dataset.type = event.type;
    row.append(
      cell(new Date(delivery.receivedAt).toLocaleTimeString()),
      cell(String(event.seq)),
      cell(event.userID),
      cell(describeEvent(event)),
      cell(describePlatforms(event.platforms, event.type === "state" ? event.background : [])),
    );
    return row;
  });
}

/** An event in a few words, as the other panels word presence: `online Android (connect)`, `state (…)`. */
function describeEvent(event: PresenceEvent): string {
  if (event.type === "state") return describeState(event);
  return `${event.type} ${event.platform} (${event.reason})${event.invisible ? "; invisible" : ""}`;
}

/**
 * A state event: what the user says about its presence after the change. The
 * background platforms are marked in "platforms after", as in the status lookup.
 */
function describeState(event: StateEvent): string {
  const parts = [
    `background: ${event.background.join(", ") || "none"}`,
    ...(event.invisible ? ["invisible"] : []),
    event.customStatus ? `custom status ${describeCustomStatus(event.customStatus)}` : "no custom status",
  ];
  return `state (${parts.join("; ")})`;
}
