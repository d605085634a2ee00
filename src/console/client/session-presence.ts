import type { ClientSession } from "../../../sdk/client";
import { type CustomStatusInputs, isProblem, oneExpiryAtATime, readCustomStatus } from "./custom-status-input";
import { button, messageOf } from "./dom";

/** A console session's own-presence controls, in its row of "Open a session". */
export interface SessionPresenceControls {
  /** Made once per session, so what is typed in it survives the table's redraws. */
  element: HTMLElement;
  /** Off once the session has ended for good. */
  enable(enabled: boolean): void;
  /** The server's error frame, which answers a refused `set` (the session's only frames besides pings). */
  refused(text: string): void;
  /** The SDK's refusal of a custom status that never went out (one that expired before the socket opened). */
  notSent(text: string): void;
}

function input(className: string, type: string, placeholder = ""): HTMLInputElement {
  const element = document.createElement("input");
  element.className = className;
  element.type = type;
  element.placeholder = placeholder;
  return element;
}

function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  const label = document.createElement("label");
  label.append(control, ` ${text}`);
  return label;
}

/**
 * Toggles for invisible and background, and a custom status (text, optional
 * expiry, Set and Clear), each a call of the session's own SDK method
 * (setInvisible, setBackground, setCustomStatus), which sends the `set` frame
 * (docs/sdk.md#appearing-offline-setinvisible and what follows it). The SDK
 * sends invisible and background again after each reconnect, and a custom
 * status set while the socket is down once it opens. The note says what was
 * asked and whether it went out now, or that it was refused: by the SDK before
 * sending (its TypeError or RangeError names the rule) or by the server (an
 * error frame).
 */
export function sessionPresenceControls(session: ClientSession, log: (text: string) => void): SessionPresenceControls {
  const invisible = input("invisible", "checkbox");
  const background = input("background", "checkbox");
  const inputs: CustomStatusInputs = {
    text: input("status-text", "text", "custom status"),
    until: input("status-until", "datetime-local"),
    minutes: input("status-minutes", "number", "N"),
  };
  inputs.until.step = "1";
  inputs.minutes.step = "any";
  inputs.minutes.min = "0";
  inputs.minutes.classList.add("narrow");
  oneExpiryAtATime(inputs);
  const note = document.createElement("span");
  note.className = "presence-note note";

  function show(text: string, refused: boolean): void {
    note.textContent = text;
    note.classList.toggle("refused", refused);
  }

  /**
   * Calls the SDK's method and says so (in the log too, where `log` names the
   * session): "sent" while the socket is open (a change of background waits
   * for room in the frame budget first, should the session have spent it),
   * else when it will go.
   */
  function ask(call: string, method: () => void): void {
    const open = session.state === "open";
    try {
      method();
    } catch (error) {
      show(`refused before sending: ${messageOf(error)}`, true);
      log(`${call} refused before sending: ${messageOf(error)}`);
      return;
    }
    show(`${call}: ${open ? "sent" : "sent once the socket opens"}`, false);
    log(note.textContent ?? "");
  }

  invisible.addEventListener("change", () => {
    const on = invisible.checked;
    ask(`setInvisible(${on})`, () => session.setInvisible(on));
  });
  background.addEventListener("change", () => {
    const on = background.checked;
    ask(`setBackground(${on})`, () => session.setBackground(on));
  });
  const set = button("Set status", "status-set", () => {
    const status = readCustomStatus(inputs);
    if (isProblem(status)) {
      show(status.problem, false);
      return;
    }
    ask(`setCustomStatus(${JSON.stringify(status)})`, () => session.setCustomStatus(status));
  });
  const clear = button("Clear", "status-clear", () =>
    ask("setCustomStatus(null)", () => session.setCustomStatus(null)),
  );

  const expiry = document.createElement("span");
  expiry.append("until ", inputs.until, " or in ", inputs.minutes, " min");
  const element = document.createElement("div");
  element.className = "own-presence";
  element.append(
    labelled("invisible", invisible),
    labelled("background", background),
    inputs.text,
    expiry,
    set,
    clear,
    note,
  );
  const controls = [invisible, background, inputs.text, inputs.until, inputs.minutes, set, clear];

  return {
    element,
    enable(enabled) {
      for (const control of controls) control.disabled = !enabled;
    },
    refused(text) {
      show(`refused: ${text}`, true);
    },
    notSent(text) {
      show(`not sent: ${text}`, true);
    },
  };
}
