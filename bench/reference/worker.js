// A reference worker for the memory floor: the least a hibernatable socket
// can cost in local workerd. One object per user, sockets accepted through the
// Hibernation API with a ping/pong auto-response, nothing else. Anything that
// is not an upgrade gets the same 401 as the real worker's floor, so the
// bench's readiness probe works unchanged.
import { DurableObject } from "cloudflare:workers";

export class Holder extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  fetch() {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }
}

export default {
  fetch(request, env) {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({ errCode: 401, errMsg: "not authorized" }, { status: 401 });
    }
    const uid = new URL(request.url).searchParams.get("sendID") ?? "";
    return env.HOLDER.get(env.HOLDER.idFromName(uid)).fetch(request);
  },
};
