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
   */
  async post(path, body, extraHeaders = {}) {
    try {
      return await this.postOnce(path, body, extraHeaders);
    } catch (error) {
      if (error?.code !== "ECONNRESET" || !error.onReusedSocket) throw error;
      return this.postOnce(path, body, extraHeaders);
    }
  }

  postOnce(path, body, extraHeaders) {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
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
