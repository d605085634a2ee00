/** A line in the page's log, newest first. */
export type Log = (text: string) => void;

export function logTo(element: HTMLElement): Log {
  return (text) => {
    const line = document.createElement("div");
    line.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
    element.prepend(line);
  };
}
