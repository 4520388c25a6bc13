/**
 * Ports on the loopback interface for child servers (the netboot check's TFTP/HTTP stand-ins, test
 * servers): a port to hand a server that cannot report the one it bound, and whether it listens yet.
 */
import { connect, createServer } from "node:net";

export const LOOPBACK = "127.0.0.1";

/** A port the kernel just handed out: free until the caller's server binds it a moment later. */
export function freePort(host: string = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error(`no free port on ${host}`))));
    });
  });
}

/** True once something accepts a TCP connection on the port; false while nothing listens. */
export function acceptsConnection(port: number, host: string = LOOPBACK): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect(port, host);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
