// A small keep-alive JSON client on node:http: less client CPU than fetch,
// which matters when the client shares two cores with the server.
import http from "node:http";

export class HttpClient {
  constructor(baseUrl) {
    this.baseUrl = baseUrl;
    // One agent per server: a restarted server must not get the old one's sockets.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  }

  /**
   * A keep-alive socket the server closed while it sat idle fails at once with
   * ECONNRESET when it is reused. That request was almost surely never read, so
   * it goes again once on a fresh socket, as Node's http docs advise; were it a
   * register the server did take, the retry's 409 would fail the run loudly.
   * With timeoutMs, a request with no whole answer by then is abandoned (its
   * socket destroyed) and rejects with an error whose `timedOut` is true.
   */
  async post(path, body, extraHeaders = {}, { timeoutMs } = {}) {
    try {
      return await this.postOnce(path, body, extraHeaders, timeoutMs);
    } catch (error) {
      if (error?.code !== "ECONNRESET" || !error.onReusedSocket) throw error;
      return this.postOnce(path, body, extraHeaders, timeoutMs);
    }
  }

  postOnce(path, body, extraHeaders, timeoutMs) {
    const payload = JSON.stringify(body);
    return new Promise((resolveAnswer, rejectAnswer) => {
      let timer;
      const resolve = (answer) => {
        clearTimeout(timer);
        resolveAnswer(answer);
      };
      const reject = (error) => {
        clearTimeout(timer);
        rejectAnswer(error);
      };
      const request = http.request(
        this.baseUrl + path,
        {
          method: "POST",
          agent: this.agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(payload),
            ...extraHeaders,
          },
        },
        (response) => {
          const chunks = [];
          response.on("data", (chunk) => chunks.push(chunk));
          response.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let json;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: response.statusCode, json, text });
          });
          response.on("error", reject);
        },
      );
      request.on("error", (error) => reject(Object.assign(error, { onReusedSocket: request.reusedSocket })));
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const error = Object.assign(new Error(`no answer to ${path} within ${timeoutMs} ms`), { timedOut: true });
          reject(error);
          request.destroy(error);
        }, timeoutMs);
      }
      request.end(payload);
    });
  }

  close() {
    this.agent.destroy();
  }
}

/** Throws unless the answer has the expected HTTP status (the bench must not time failures as successes). */
export function expectStatus(answer, status, what) {
  if (answer.status !== status) {
    throw new Error(`${what}: expected HTTP ${status}, got ${answer.status} ${answer.text.slice(0, 200)}`);
  }
  return answer;
}
