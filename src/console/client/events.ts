import type { StateEvent } from "../../../protocol";
import { ErrCode, isImApiError } from "../../../sdk/appserver";
import type { Delivery } from "./api";
import { cell, tableBody } from "./dom";
import type { Panel } from "./panel";

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
      cell(event.type === "state" ? describeState(event) : `${event.type} ${event.platform} (${event.reason})`),
      cell(event.platforms.join(", ") || "none"),
    );
    return row;
  });
}

/** A state event in a few words: what the user says about its presence after the change. */
function describeState(event: StateEvent): string {
  const parts = [
    event.background.length ? `background: ${event.background.join(", ")}` : "foreground",
    ...(event.invisible ? ["invisible"] : []),
    event.customStatus ? `"${event.customStatus.text}"` : "no custom status",
  ];
  return `state (${parts.join("; ")})`;
}
