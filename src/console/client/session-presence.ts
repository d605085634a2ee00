import type { SetFrame } from "../../../protocol";
import { type CustomStatusInputs, isProblem, oneExpiryAtATime, readCustomStatus } from "./custom-status-input";
import { button } from "./dom";
import type { OwnPresence } from "./own-presence";

/** A console session's own-presence controls, in its row of "Open a session". */
export interface SessionPresenceControls {
  /** Made once per session, so what is typed in it survives the table's redraws. */
  element: HTMLElement;
  /** Off once the session has ended for good. */
  enable(enabled: boolean): void;
  /** The server's error frame, which answers a refused `set` (the session's only frames besides pings). */
  refused(text: string): void;
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
 * expiry, Set and Clear), each sent as a `set` frame on the session's socket.
 * The note says which frame went out, or that the server refused it.
 */
export function sessionPresenceControls(presence: OwnPresence, log: (text: string) => void): SessionPresenceControls {
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

  /** Says which frame went out, or `otherwise` when none could (in the log too, where `log` names the session). */
  function sent(frame: SetFrame | undefined, otherwise: string): void {
    note.classList.remove("refused");
    note.textContent = frame ? `sent ${JSON.stringify(frame)}` : otherwise;
    log(note.textContent);
  }

  invisible.addEventListener("change", () => {
    const on = invisible.checked;
    sent(presence.setInvisible(on), `invisible ${on}: sent once the socket opens`);
  });
  background.addEventListener("change", () => {
    const on = background.checked;
    sent(presence.setBackground(on), `background ${on}: sent once the socket opens`);
  });
  const set = button("Set status", "status-set", () => {
    const status = readCustomStatus(inputs);
    if (isProblem(status)) {
      note.classList.remove("refused");
      note.textContent = status.problem;
      return;
    }
    sent(presence.setCustomStatus(status), "custom status not sent: the socket is not open");
  });
  const clear = button("Clear", "status-clear", () =>
    sent(presence.setCustomStatus(null), "custom status not cleared: the socket is not open"),
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
      note.textContent = `refused: ${text}`;
      note.classList.add("refused");
    },
  };
}
