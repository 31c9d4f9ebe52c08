import net from "node:net";

/** True when something already listens on host:port, found by trying to listen there briefly. */
export async function isPortInUse(port: number, host: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(true));
    server.listen(port, host, () => server.close(() => resolve(false)));
  });
}
