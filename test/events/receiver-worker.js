// A webhook receiver for the `webhooks` test projects: a second worker that the
// main worker's outbound fetches reach (miniflare's outboundService). It keeps
// what it received and answers with the statuses a test asked for.
//   POST <any other path>  a delivery: recorded, answered with the next programmed status (200 when none)
//   GET  /_received        every delivery so far: [{ signature, body, status, at }]
//   POST /_respond         {"statuses":[500,500],"when":"u1"}: the next deliveries whose body contains "u1" get these
//   POST /_reset           forget everything
let received = [];
/** Programmed answers: [{ when, statuses }], each for deliveries whose body contains `when`. */
let programs = [];

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/_received") return Response.json(received);
    if (pathname === "/_respond") {
      const { statuses, when } = await request.json();
      programs.push({ when, statuses: [...statuses] });
      return Response.json({});
    }
    if (pathname === "/_reset") {
      received = [];
      programs = [];
      return Response.json({});
    }
    const body = await request.text();
    const program = programs.find((p) => p.statuses.length > 0 && body.includes(p.when));
    const status = program?.statuses.shift() ?? 200;
    received.push({ signature: request.headers.get("X-IM-Signature"), body, status, at: Date.now() });
    return new Response(status === 200 ? "ok" : "nope", { status });
  },
};
